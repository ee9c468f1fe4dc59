/** Rate limits of every door, counted in the store (docs/security.md). */
export { limiterConnectionOf, openLimiterBackend, type LimiterBackend, type LimiterConnection } from './backends.ts';
export { installClientLimits } from './clients.ts';
export { createRateLimiters, type LimitName, type RateLimiters, type Verdict } from './limits.ts';
export { brokerPathTable, legacyServiceGuard, rateLimitMiddleware, type LegacyOutcomeState, type PathLimit } from './middleware.ts';
export { respondTooMany, tooManyRequests } from './respond.ts';
