/** The public surface of the province adapters, in one list. */
export type { ClaimValue, DeriveId, ProvinceAdapter, ProvinceLevel, ReleaseContext } from './types.ts';
export { isReleaseScope, releaseScopes, scopeDescriptions, type ReleaseScope } from './scopes.ts';
export { actsForLegalPerson, applyMapping, claimsByScopeOf, type ClaimRule, type MappingTable, type SourceName, type Sources } from './apply.ts';
export { provinceAdapter, type ProvinceDefinition } from './define.ts';
export { reservedClaimNames, standardClaims, standardClaimsByScope, standardMapping } from './standard.ts';
export {
  adapterById, adapterForDivision, adapterForProvince, isLegacyProvince, legacyAdapters, legacyProvinces, provinceAdapters, registeredAdapters,
  type LegacyAdapter,
} from './registry.ts';
export {
  isReturnAddress, legacyServiceCodePattern, md5HexPattern, type LegacyBridgeApi, type LegacyCaller, type LegacyFailure, type LegacyLoginEntry,
  type LegacyOutcome, type LegacyParams, type LegacyProtocol, type LegacyRedemption, type LegacyResponse,
} from './legacy.ts';
