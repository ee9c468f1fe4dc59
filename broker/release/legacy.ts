/**
 * What a legacy system receives: the province adapter's dialect for the person of a live broker
 * session, limited to the scopes both granted in the login and registered for the system now.
 * Each release is noted like an OIDC one (release-log.ts): `/account`, and the audit trail for
 * sensitive items — the system, the items, the person as the province's `sub`, the consent record.
 */
import type Provider from 'oidc-provider';
import { adapterForDivision } from '../../adapters/registry.ts';
import type { ClaimValue } from '../../adapters/types.ts';
import { atAchievedLevel, type CanonicalIdentity, type LegalPerson } from '../identity/model.ts';
import { pairwiseSubject, type Derive } from '../identity/subjects.ts';
import type { ReleaseLog } from './release-log.ts';
import { sectorOfCity } from './sectors.ts';

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
  readonly province: string;
  readonly serviceCode: string;
  readonly name: string;
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
  /** Notes the release of `claimsFor`'s items to the system (`use`: how it asked, e.g. `ticket`, `token`). */
  noteRelease(system: LegacySystemFacts, grant: LegacyGrantFacts, use: string): Promise<void>;
}

export interface LegacyReleaseOptions {
  /** Who received what (release-log.ts); without it nothing is noted. */
  readonly releases?: ReleaseLog;
  /** The app whose consent a province's systems stand on: the province's bridge client (broker/legacy). */
  readonly consentClientOf?: (province: string) => string;
}

/** How a legacy system is named among the apps of the release log and the audit trail. */
export const legacySystemClientId = (system: Pick<LegacySystemFacts, 'province' | 'serviceCode'>) => `legacy:${system.province}:${system.serviceCode}`;

/** The scopes a system receives: granted in the login and registered for the system. */
function releasedScopes(system: LegacySystemFacts, grant: LegacyGrantFacts): string[] {
  const granted = new Set(grant.scope.split(' '));
  return ['openid', ...system.scopes.filter((scope) => scope !== 'openid' && granted.has(scope))];
}

export function createLegacyRelease(provider: Provider, accounts: IdentitySource, derive: Derive, options: LegacyReleaseOptions = {}): LegacyRelease {
  const { releases, consentClientOf } = options;
  return {
    async noteRelease(system, grant, use) {
      if (!releases) return;
      await releases.record({
        accountId: grant.accountId,
        clientId: legacySystemClientId(system),
        // The person as the system's province knows them: the province's pairwise `sub`.
        subject: pairwiseSubject(derive, sectorOfCity(system.city), grant.accountId),
        scopes: releasedScopes(system, grant),
        use: `legacy_${use}`,
        system: { name: system.name, city: system.city },
        ...(consentClientOf ? { consentClientId: consentClientOf(system.province) } : {}),
      });
    },
    async identityOf(grant) {
      const session = await provider.Session.findByUid(grant.sessionUid);
      if (!session || session.accountId !== grant.accountId) return undefined;
      return accounts.load(grant.accountId);
    },
    claimsFor(system, grant, identity, acting) {
      const adapter = adapterForDivision(system.city);
      if (!adapter) return {};
      const scopes = new Set(releasedScopes(system, grant));
      return adapter.claims({ identity: atAchievedLevel(identity, grant.acr), scopes, accountId: adapter.accountId(identity, derive), ...(acting ? { acting } : {}) });
    },
  };
}
