/** The public surface of the province adapters, in one list. */
export type { ClaimValue, DeriveId, ProvinceAdapter, ProvinceLevel, ReleaseContext } from './types.ts';
export { isReleaseScope, releaseScopes, scopeDescriptions, type ReleaseScope } from './scopes.ts';
export { actsForLegalPerson, applyMapping, claimsByScopeOf, type ClaimRule, type MappingTable, type SourceName, type Sources } from './apply.ts';
export { provinceAdapter, type ProvinceDefinition } from './define.ts';
export { reservedClaimNames, standardClaims, standardClaimsByScope, standardMapping } from './standard.ts';
export { adapterById, adapterForDivision, adapterForProvince, provinceAdapters, registeredAdapters } from './registry.ts';
