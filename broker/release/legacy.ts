/**
 * What a legacy system receives: the province adapter's dialect for the person of a live broker
 * session, limited to the scopes both granted in the login and registered for the system now.
 */
import type Provider from 'oidc-provider';
import { adapterForDivision } from '../../adapters/registry.ts';
import type { ClaimValue } from '../../adapters/types.ts';
import { atAchievedLevel, type CanonicalIdentity, type LegalPerson } from '../identity/model.ts';
import type { Derive } from '../identity/subjects.ts';

/**
 * What release needs of a legacy ticket or token (broker/legacy's `LegacyGrant` has these): named
 * here so that release depends on nothing of broker/legacy, which depends on release.
 */
export interface LegacyGrantFacts {
  readonly accountId: string;
  readonly sessionUid: string;
  /** Scopes granted in the broker login, space-separated. */
  readonly scope: string;
  readonly acr?: string;
}

/** What release needs of a legacy system (broker/legacy's `LegacySystem` has these). */
export interface LegacySystemFacts {
  readonly city: string;
  readonly scopes: readonly string[];
}

/** Where the identity of an account is read (broker/accounts' `AccountStore` is one). */
export interface IdentitySource {
  load(accountId: string): Promise<CanonicalIdentity | undefined>;
}

export interface LegacyRelease {
  /**
   * The identity behind a ticket or token while its broker session lives (same account); once the
   * session has ended (logout, expiry, another person logging in), undefined.
   */
  identityOf(grant: LegacyGrantFacts): Promise<CanonicalIdentity | undefined>;
  /** The dialect claims of the system's province; with `acting`, the company in the province's own fields. */
  claimsFor(system: LegacySystemFacts, grant: LegacyGrantFacts, identity: CanonicalIdentity, acting?: LegalPerson): Record<string, ClaimValue>;
}

export function createLegacyRelease(provider: Provider, accounts: IdentitySource, derive: Derive): LegacyRelease {
  return {
    async identityOf(grant) {
      const session = await provider.Session.findByUid(grant.sessionUid);
      if (!session || session.accountId !== grant.accountId) return undefined;
      return accounts.load(grant.accountId);
    },
    claimsFor(system, grant, identity, acting) {
      const adapter = adapterForDivision(system.city);
      if (!adapter) return {};
      const granted = new Set(grant.scope.split(' '));
      const scopes = new Set(['openid', ...system.scopes.filter((scope) => granted.has(scope))]);
      return adapter.claims({ identity: atAchievedLevel(identity, grant.acr), scopes, accountId: adapter.accountId(identity, derive), ...(acting ? { acting } : {}) });
    },
  };
}
