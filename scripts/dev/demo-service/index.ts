/** The demo resource server (上海 housing fund): a relying service checking the broker's tokens. */
export { createDemoService, demoHousingFundResource, housingFundScope, type DemoService, type DemoServiceOptions } from './service.ts';
export { deskLicenceScopes, maskNumber, type LicenceDeskOptions } from './licence-desk.ts';
