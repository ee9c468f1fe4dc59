/**
 * The member-city registry: cities, their apps (OpenID clients), operators and the audit trail,
 * kept in the shared store and served to oidc-provider without restarts.
 */
export { createRegistryService, cliActor } from './service.ts';
export type { RegistryService, RegistryServiceOptions, AppView, CityView, CitySummary, RegisteredApp, OperatorView, OperatorActor, IssuedInitialAccessToken } from './service.ts';
export { installRegistry, isClientActive, registrationFeatures, withRegistryClients } from './oidc.ts';
export { createAdminApi } from './admin-api.ts';
export { RegistryError, RegistryErrorCode, isRegistryError } from './errors.ts';
export type { Problem } from './errors.ts';
export { appScopes, checkAppInput, checkAppUrl, clientMetadataOfApp, defaultRegistrationScopes } from './policy.ts';
export type { AppInput, AppPolicy } from './policy.ts';
export type { Actor, AuditEntry, MemberApp, MemberCity, Operator, OperatorRole, TokenAuthMethod } from './types.ts';
