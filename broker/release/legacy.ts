/**
 * What a legacy system receives: the province adapter's dialect for the person of a live broker
 * session, limited to the scopes both granted in the login and registered for the system now.
 */
import type Provider from 'oidc-provider';
import { adapterForDivision } from '../../adapters/registry.ts';
import type { ClaimValue } from '../../adapters/types.ts';
import type { AccountStore } from '../accounts/records.ts';
import { atAchievedLevel, type CanonicalIdentity } from '../identity/model.ts';
import type { Derive } from '../identity/subjects.ts';
import type { LegacyGrant } from '../legacy/credentials.ts';
import type { LegacySystem } from '../legacy/registry.ts';

export interface LegacyRelease {
  /**
   * The identity behind a ticket or token while its broker session lives (same account); once the
   * session has ended (logout, expiry, another person logging in), undefined.
   */
  identityOf(grant: LegacyGrant): Promise<CanonicalIdentity | undefined>;
  /** The dialect claims of the system's province. */
  claimsFor(system: LegacySystem, grant: LegacyGrant, identity: CanonicalIdentity): Record<string, ClaimValue>;
}

export function createLegacyRelease(provider: Provider, accounts: AccountStore, derive: Derive): LegacyRelease {
  return {
    async identityOf(grant) {
      const session = await provider.Session.findByUid(grant.sessionUid);
      if (!session || session.accountId !== grant.accountId) return undefined;
      return accounts.load(grant.accountId);
    },
    claimsFor(system, grant, identity) {
      const adapter = adapterForDivision(system.city);
      if (!adapter) return {};
      const granted = new Set(grant.scope.split(' '));
      const scopes = new Set(['openid', ...system.scopes.filter((scope) => granted.has(scope))]);
      return adapter.claims({ identity: atAchievedLevel(identity, grant.acr), scopes, accountId: adapter.accountId(identity, derive) });
    },
  };
}
