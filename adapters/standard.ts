/**
 * The standard OpenID Connect claims released beside every dialect, per scope. One table for all
 * provinces. `sub`, `acr`, `amr` and `auth_time` are the broker's token layer's, not here.
 */
import { applyMapping, claimsByScopeOf, type MappingTable } from './apply.ts';
import type { ClaimValue, ReleaseContext } from './types.ts';

export const standardMapping = [
  { claim: 'name', scope: 'profile', from: 'person.name' },
  { claim: 'birthdate', scope: 'profile', from: 'person.birthDate' },
  { claim: 'gender', scope: 'profile', from: 'person.sex', values: { male: 'male', female: 'female' } },
  { claim: 'phone_number', scope: 'phone', from: 'person.phone' },
  // Phones reach the broker only from the national platform, which confirms them by SMS.
  { claim: 'phone_number_verified', scope: 'phone', from: 'person.phone', format: () => true },
] as const satisfies MappingTable;

/** Standard claim names per scope, for discovery and the provider's claims configuration. */
export const standardClaimsByScope = claimsByScopeOf(standardMapping);

/**
 * Names a dialect must not use: the standard claims above and those the token layer sets, so a
 * dialect can never shadow them in a flat userinfo answer.
 */
export const reservedClaimNames: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'sid', 'at_hash', 'c_hash', 's_hash',
  'acr', 'amr', 'auth_time', 'scope', 'client_id',
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
  'picture', 'website', 'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale',
  'phone_number', 'phone_number_verified', 'address', 'updated_at',
]);

/**
 * The standard claims for the granted scopes.
 *
 * @example
 * standardClaims({ identity, scopes: new Set(['openid', 'profile']), accountId })
 * // → { name: '张三', birthdate: '1985-03-15', gender: 'male' }
 */
export function standardClaims(context: ReleaseContext): Record<string, ClaimValue> {
  return applyMapping(standardMapping, context);
}
