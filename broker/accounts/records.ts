/**
 * Accounts without a register of people: the canonical identity lives in a store record keyed by
 * the keyed-hash account id, with the session's lifetime, and is gone when the session is.
 */
import type { Account, AccountClaims, ClaimsParameterMember, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { atAchievedLevel, type CanonicalIdentity } from '../identity/model.ts';
import type { Store } from '../platform/storage/types.ts';
import type { ClaimsRelease } from '../release/oidc.ts';
import type { LegalPersons } from '../legal-person/index.ts';

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
  /** With `loadRecent` (broker/identity-cache.ts), session-bound tokens may use a node's recent read. */
  readonly accounts: AccountStore & { loadRecent?(accountId: string): Promise<CanonicalIdentity | undefined> };
  readonly release: ClaimsRelease;
  /** The company a token acts for (and the mandate check on refresh). */
  readonly legalPersons?: LegalPersons;
}

/** The `acr` of the login behind the token being issued or used (the session's, at the authorization endpoint). */
function achievedAcrOf(ctx: KoaContextWithOIDC): unknown {
  const { AuthorizationCode, RefreshToken, AccessToken } = ctx.oidc.entities;
  return AuthorizationCode?.acr ?? RefreshToken?.acr ?? (AccessToken?.extra as { acr?: unknown } | undefined)?.acr ?? ctx.oidc.session?.acr;
}

/**
 * Whether what the request stands on ends with its session (at logout the session is destroyed and
 * its grants revoked, so the lookup in the store fails everywhere): the token in use, or the session
 * itself where no token is. An `offline_access` token outlives it until the identity is removed.
 */
function sessionBound(ctx: KoaContextWithOIDC, accountId: string): boolean {
  const { RefreshToken, AccessToken, AuthorizationCode } = ctx.oidc.entities;
  const token = RefreshToken ?? AccessToken ?? AuthorizationCode;
  if (!token) return ctx.oidc.session?.accountId === accountId;
  return typeof token.scope === 'string' && !token.scope.split(' ').includes('offline_access');
}

/** oidc-provider's `findAccount`: resolves the identity and shapes claims for the asking client. */
export function createFindAccount({ accounts, release, legalPersons }: FindAccountOptions): FindAccount {
  return async (ctx: KoaContextWithOIDC, accountId: string): Promise<Account | undefined> => {
    const stored = accounts.loadRecent && sessionBound(ctx, accountId) ? await accounts.loadRecent(accountId) : await accounts.load(accountId);
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
