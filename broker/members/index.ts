/**
 * The member registry: member cities, their apps (OpenID clients), operators and the audit trail,
 * kept in the shared store and served to oidc-provider without restarts.
 */
export { createMemberRegistry } from './member-registry.ts';
export type { MemberRegistry } from './member-registry.ts';
export type { MemberRegistryOptions } from './context.ts';
export { cliActor } from './actors.ts';
export type { OperatorActor } from './actors.ts';
export type { AppView, ConfiguredAppView, CityView, CitySummary, RegisteredApp, OperatorView, IssuedInitialAccessToken } from './views.ts';
export type { MemberRecords } from './records.ts';
export { installMembers, isClientActive, registrationFeatures, withMemberApps } from './oidc.ts';
export { createAdminApi } from './admin-api.ts';
export { RegistryError, RegistryErrorCode, isRegistryError } from './errors.ts';
export type { Problem } from './errors.ts';
export { appScopes, checkAppInput, checkAppUrl, clientMetadataOfApp, defaultRegistrationScopes } from './policy.ts';
export type { AppInput, AppPolicy } from './policy.ts';
export type { Actor, AuditEntry, MemberApp, MemberCity, Operator, OperatorRole, TokenAuthMethod } from './types.ts';

export { appPurposes, federationScopes, sensitiveScopes } from './purposes.ts';
export type { AppPurposes } from './purposes.ts';
export { createClientIdNamespace, describeHolder } from './client-ids.ts';
export type { ClientIdHolder, ClientIdNamespace } from './client-ids.ts';
