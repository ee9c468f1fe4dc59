/** The operator dashboard at /admin and the admin API's OpenAPI document (docs/operators.md). */
export { createDashboard, type DashboardOptions } from './routes.ts';
export { createLoginCounts, type CountWindow, type LoginCounts, type LoginSeries } from './login-counts.ts';
export { adminOperations, openApiDocument } from './openapi.ts';
