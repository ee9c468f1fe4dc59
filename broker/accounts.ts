/**
 * Accounts without a register of people: the canonical identity lives in a store record keyed by
 * the keyed-hash account id, with the session's lifetime, and is gone when the session is.
 */
import type { Account, AccountClaims, ClaimsParameterMember, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { atAchievedLevel, type CanonicalIdentity } from './identity/model.ts';
import type { Store } from './storage/types.ts';
import type { Derive } from './subjects.ts';
import type { ClaimsRelease } from './release.ts';
import type { LegalPersons } from './legal-person/index.ts';

const identityKey = (accountId: string) => `identity:${accountId}`;

export interface IdentityRecord {
  readonly identity: CanonicalIdentity;
}

export interface AccountStore {
  save(accountId: string, identity: CanonicalIdentity, ttlSeconds: number): Promise<void>;
  load(accountId: string): Promise<CanonicalIdentity | undefined>;
  remove(accountId: string): Promise<void>;
}

export function createAccountStore(store: Store): AccountStore {
  return {
    async save(accountId, identity, ttlSeconds) {
      await store.set(identityKey(accountId), { identity } satisfies IdentityRecord, ttlSeconds * 1000);
    },
    async load(accountId) {
      return (await store.get<IdentityRecord>(identityKey(accountId)))?.identity;
    },
    async remove(accountId) {
      await store.delete(identityKey(accountId));
    },
  };
}

export interface FindAccountOptions {
  readonly accounts: AccountStore;
  readonly release: ClaimsRelease;
  readonly derive: Derive;
  /** The company a token acts for (and the mandate check on refresh). */
  readonly legalPersons?: LegalPersons;
}

/** The `acr` of the login behind the token being issued or used (the session's, at the authorization endpoint). */
function achievedAcrOf(ctx: KoaContextWithOIDC): unknown {
  const { AuthorizationCode, RefreshToken, AccessToken } = ctx.oidc.entities;
  return AuthorizationCode?.acr ?? RefreshToken?.acr ?? (AccessToken?.extra as { acr?: unknown } | undefined)?.acr ?? ctx.oidc.session?.acr;
}

/** oidc-provider's `findAccount`: resolves the identity and shapes claims for the asking client. */
export function createFindAccount({ accounts, release, legalPersons }: FindAccountOptions): FindAccount {
  return async (ctx: KoaContextWithOIDC, accountId: string): Promise<Account | undefined> => {
    const stored = await accounts.load(accountId);
    if (!stored) return undefined;
    const identity = atAchievedLevel(stored, achievedAcrOf(ctx));
    const acting = await legalPersons?.actingFor(ctx);
    return {
      accountId,
      async claims(_use: string, scope: string, _claims: { [key: string]: null | ClaimsParameterMember }, _rejected: string[]): Promise<AccountClaims> {
        const client = ctx.oidc.client;
        return { sub: accountId, ...release.claimsFor({ identity, accountId, scope, client, ...(acting ? { acting } : {}) }) };
      },
    };
  };
}
