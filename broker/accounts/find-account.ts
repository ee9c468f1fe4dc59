/**
 * oidc-provider's `findAccount`: the identity of an account (at the level the login behind the
 * token reached), with the company the token acts for, shaped by release for the asking client.
 */
import { errors, type Account, type AccountClaims, type ClaimsParameterMember, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import { RecordUnsealableError } from '../platform/crypto/sealing.ts';
import { atAchievedLevel, type CanonicalIdentity } from '../identity/model.ts';
import type { LegalPersons } from '../legal-person/index.ts';
import type { ClaimsRelease } from '../release/oidc.ts';
import type { ReleaseLog } from '../release/release-log.ts';
import type { AccountStore } from './records.ts';

export interface FindAccountOptions {
  /** With `loadRecent` (cache.ts), session-bound tokens may use a node's recent read. */
  readonly accounts: AccountStore & { loadRecent?(accountId: string): Promise<CanonicalIdentity | undefined> };
  readonly release: ClaimsRelease;
  /** The company a token acts for (and the mandate check on refresh). */
  readonly legalPersons?: LegalPersons;
  /** Notes every release (app, items, time) for `/account` and the audit trail. */
  readonly releases?: ReleaseLog;
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

/**
 * An identity record that does not open (records.ts logs its key id) is never a 500: a client
 * using a token gets the standard OAuth error and signs the person in again; the interaction's
 * routes show the `record_unsealable` page (its catalogue status).
 */
async function loadOrRefuse(ctx: KoaContextWithOIDC, load: () => Promise<CanonicalIdentity | undefined>): Promise<CanonicalIdentity | undefined> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof RecordUnsealableError)) throw error;
    if (ctx.oidc.route === 'userinfo') throw new errors.InvalidToken('the identity behind this token can no longer be read');
    if (ctx.oidc.route === 'token') throw new errors.InvalidGrant('the identity behind this grant can no longer be read');
    throw error;
  }
}

/** oidc-provider's `findAccount`: resolves the identity and shapes claims for the asking client. */
export function createFindAccount({ accounts, release, legalPersons, releases }: FindAccountOptions): FindAccount {
  return async (ctx: KoaContextWithOIDC, accountId: string): Promise<Account | undefined> => {
    const stored = await loadOrRefuse(ctx, () => (accounts.loadRecent && sessionBound(ctx, accountId) ? accounts.loadRecent(accountId) : accounts.load(accountId)));
    if (!stored) return undefined;
    const identity = atAchievedLevel(stored, achievedAcrOf(ctx));
    const acting = await legalPersons?.actingFor(ctx);
    return {
      accountId,
      async claims(use: string, scope: string, _claims: { [key: string]: null | ClaimsParameterMember }, _rejected: string[]): Promise<AccountClaims> {
        const client = ctx.oidc.client;
        if (releases && client) {
          const { AuthorizationCode, RefreshToken, AccessToken } = ctx.oidc.entities;
          const grantId = (AuthorizationCode ?? RefreshToken ?? AccessToken)?.grantId;
          await releases.record({
            accountId, clientId: client.clientId, subject: release.subjectFor(accountId, client), use,
            scopes: scope.split(' ').filter(Boolean), ...(grantId ? { grantId } : {}),
          });
        }
        return { sub: accountId, ...release.claimsFor({ identity, accountId, scope, client, ...(acting ? { acting } : {}) }) };
      },
    };
  };
}
