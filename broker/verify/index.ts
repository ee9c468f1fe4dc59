/**
 * `tongban/verify`: checks tongban's tokens in a Node service with only the issuer URL and the
 * expected audience, plus a koa middleware on top. It depends on jose alone (and koa's types);
 * nothing of the broker is loaded. See docs/relying-services.md.
 *
 * The whole public surface:
 */
export { createVerifier } from './verifier.ts';
export type { AccessTokenClaims, IdTokenChecks, IdTokenClaims, VerifiedToken, Verifier, VerifierAlgorithm, VerifierOptions } from './verifier.ts';
export { requireToken } from './middleware.ts';
export type { RefusalLogger, RequireTokenOptions, TokenState } from './middleware.ts';
export { TokenError, TokenErrorCode, isTokenError } from './errors.ts';
export type { BearerError } from './errors.ts';
export { createLicenceVerifier } from './licences.ts';
export type { LicenceChecks, LicenceHolder, LicenceVerifier, LicenceVerifierOptions, VerifiedLicence } from './licences.ts';
export { LicenceError, LicenceErrorCode, isLicenceError } from './licence-errors.ts';
