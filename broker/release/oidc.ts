/**
 * What a client receives: the standard claims and its province's dialect, for the scopes it was
 * granted. The province comes from the client's member city; the adapter shapes the dialect.
 */
import type { Client } from 'oidc-provider';
import { adapterForDivision, registeredAdapters } from '../../adapters/registry.ts';
import { standardClaims, standardClaimsByScope } from '../../adapters/standard.ts';
import type { ProvinceAdapter } from '../../adapters/types.ts';
import type { CanonicalIdentity, LegalPerson } from '../identity/model.ts';
import { legalPersonClaims, legalPersonClaimsByScope, legalPersonSubjectOf } from './legal-person.ts';
import { pairwiseSubject, type Derive } from '../identity/subjects.ts';
import { cityOf, sectorOf } from './sectors.ts';

export interface ReleaseRequest {
  readonly identity: CanonicalIdentity;
  readonly accountId: string;
  readonly scope: string;
  readonly client: Client | undefined;
  /** The company the token acts for (legal-person logins, `legal_person` scope). */
  readonly acting?: LegalPerson;
}

export interface ClaimsRelease {
  claimsFor(request: ReleaseRequest): Record<string, unknown>;
  /** The adapter of a client's province, if the province has one. */
  adapterFor(client: Client | undefined): ProvinceAdapter | undefined;
  /** Pairwise `sub` of an account for a client (per province sector). */
  subjectFor(accountId: string, client: Client): string;
  /** oidc-provider's `claims` configuration: every claim name per scope. */
  readonly claimsConfiguration: Record<string, string[]>;
}

export function createClaimsRelease(derive: Derive): ClaimsRelease {
  const claimsConfiguration: Record<string, Set<string>> = {};
  const add = (table: Readonly<Record<string, readonly string[]>>) => {
    for (const [scope, names] of Object.entries(table)) {
      claimsConfiguration[scope] ??= new Set();
      for (const name of names) claimsConfiguration[scope].add(name);
    }
  };
  add(standardClaimsByScope);
  for (const adapter of registeredAdapters()) add(adapter.claimsByScope);
  add(legalPersonClaimsByScope);
  claimsConfiguration.openid ??= new Set();
  // How and when the person authenticated is part of every ID token, not only on request.
  for (const name of ['sub', 'acr', 'amr', 'auth_time']) claimsConfiguration.openid.add(name);

  const adapterFor = (client: Client | undefined) => {
    const city = cityOf(client);
    return city ? adapterForDivision(city) : undefined;
  };

  const subjectFor = (accountId: string, client: Client) => pairwiseSubject(derive, sectorOf(client), accountId);

  return {
    adapterFor,
    claimsConfiguration: Object.fromEntries(Object.entries(claimsConfiguration).map(([k, v]) => [k, [...v]])),
    subjectFor,
    claimsFor({ identity, accountId, scope, client, acting }) {
      const scopes = new Set(scope.split(' ').filter(Boolean));
      const adapter = adapterFor(client);
      const provincialId = adapter ? adapter.accountId(identity, derive) : accountId;
      const context = { identity, scopes, accountId: provincialId, ...(acting ? { acting } : {}) };
      const company = acting && scopes.has('legal_person') ? legalPersonClaims({
        acting,
        person: identity.person,
        shape: legalPersonSubjectOf(client),
        personSubject: client ? subjectFor(accountId, client) : accountId,
      }) : {};
      // One object filled in order (a later table's claim wins, as with spreads): V8 builds
      // `{ ...a, ...b }` of two objects made at run time very slowly (about 15 µs here).
      const claims = standardClaims(context);
      if (adapter) Object.assign(claims, adapter.claims(context));
      return Object.assign(claims, company);
    },
  };
}
