/**
 * What the broker keeps about the access tokens it issues for resource servers, and how a token
 * presented back to it (the subject token of an exchange) is resolved to that.
 *
 * Opaque tokens are records of oidc-provider already. JWT access tokens are not stored by
 * oidc-provider, and their `sub` is pairwise (one-way), so a short record per JWT (`resources:jwt:<jti>`,
 * kept exactly as long as the token) links it back to its grant: that is what lets an exchange
 * check that the grant still stands and recompute `sub` for another province.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Store } from '../platform/storage/types.ts';

/** The claims the broker adds to resource tokens (and shows at introspection). */
export interface ResourceTokenClaims {
  sub?: string;
  acr?: string;
  auth_time?: number;
  act?: ActorClaim;
}

/** RFC 8693 §4.1: the acting party, with the earlier actors nested. */
export interface ActorClaim {
  readonly sub: string;
  readonly act?: ActorClaim;
}

/** A subject token as the exchange needs it, whatever its format. */
export interface ResolvedToken {
  readonly format: 'jwt' | 'opaque';
  readonly jti: string;
  readonly accountId: string;
  readonly clientId: string;
  readonly grantId: string;
  readonly scopes: ReadonlySet<string>;
  readonly audience: readonly string[];
  readonly acr: string | undefined;
  readonly authTime: number | undefined;
  readonly act: ActorClaim | undefined;
  /** Epoch seconds. */
  readonly exp: number;
}

interface JwtIndexRecord {
  readonly accountId: string;
  readonly grantId: string;
  readonly clientId: string;
}

const jwtIndexKey = (jti: string) => `resources:jwt:${jti}`;

export async function rememberJwtAccessToken(store: Store, jti: string, record: JwtIndexRecord, exp: number): Promise<void> {
  const ttlMs = Math.max(1, exp * 1000 - Date.now());
  await store.set(jwtIndexKey(jti), record, ttlMs);
}

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export function publicJwks(keys: readonly JWK[]): { keys: JWK[] } {
  return {
    keys: keys.map((key) => {
      const copy: Record<string, unknown> = { ...key };
      for (const member of privateMembers) delete copy[member];
      return copy as JWK;
    }),
  };
}

/** A token's `aud` as a list (one audience may be a plain string). */
export function audienceList(aud: string | readonly string[] | undefined): string[] {
  return aud === undefined ? [] : Array.isArray(aud) ? [...aud] : [aud as string];
}

export function isActorClaim(value: unknown): value is ActorClaim {
  if (typeof value !== 'object' || value === null) return false;
  const { sub, act } = value as Record<string, unknown>;
  return typeof sub === 'string' && (act === undefined || isActorClaim(act));
}

function looksLikeJwt(value: string): boolean {
  try {
    return !!decodeProtectedHeader(value);
  } catch {
    return false;
  }
}

export interface TokenResolverOptions {
  readonly store: Store;
  readonly issuer: string;
  /** The broker's current signing keys (they rotate at run time). */
  readonly signingKeys: () => readonly JWK[];
  readonly clockToleranceSeconds: number;
}

/** Resolves an access token the broker issued; undefined when it is not one, or no longer valid. */
export type ResolveAccessToken = (provider: Provider, value: string) => Promise<ResolvedToken | undefined>;

export function createTokenResolver({ store, issuer, signingKeys, clockToleranceSeconds }: TokenResolverOptions): ResolveAccessToken {
  let verifier: { readonly kids: string; readonly keySet: ReturnType<typeof createLocalJWKSet>; readonly algorithms: string[] } | undefined;
  const current = () => {
    const keys = signingKeys();
    const kids = keys.map((key) => key.kid).join(' ');
    if (verifier?.kids !== kids) {
      verifier = {
        kids,
        keySet: createLocalJWKSet(publicJwks(keys)),
        algorithms: [...new Set(keys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string' && !alg.startsWith('HS')))],
      };
    }
    return verifier;
  };
  return async (provider, value) => {
    if (looksLikeJwt(value)) {
      let payload;
      try {
        const { keySet, algorithms } = current();
        ({ payload } = await jwtVerify(value, keySet, { issuer, typ: 'at+jwt', algorithms, clockTolerance: clockToleranceSeconds }));
      } catch {
        return undefined;
      }
      if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return undefined;
      const index = await store.get<JwtIndexRecord>(jwtIndexKey(payload.jti));
      if (!index || index.clientId !== payload.client_id) return undefined;
      return {
        format: 'jwt',
        jti: payload.jti,
        accountId: index.accountId,
        clientId: index.clientId,
        grantId: index.grantId,
        scopes: new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
        audience: audienceList(payload.aud),
        acr: typeof payload.acr === 'string' ? payload.acr : undefined,
        authTime: typeof payload.auth_time === 'number' ? payload.auth_time : undefined,
        act: isActorClaim(payload.act) ? payload.act : undefined,
        exp: payload.exp,
      };
    }
    const token = await provider.AccessToken.find(value);
    if (!token || !token.isValid || !token.accountId || !token.grantId) return undefined;
    const extra = (token.extra ?? {}) as ResourceTokenClaims;
    return {
      format: 'opaque',
      jti: token.jti,
      accountId: token.accountId,
      clientId: token.clientId!,
      grantId: token.grantId,
      scopes: new Set(token.scope ? token.scope.split(' ').filter(Boolean) : []),
      audience: audienceList(token.aud),
      acr: typeof extra.acr === 'string' ? extra.acr : undefined,
      authTime: typeof extra.auth_time === 'number' ? extra.auth_time : undefined,
      act: isActorClaim(extra.act) ? extra.act : undefined,
      exp: token.exp!,
    };
  };
}
