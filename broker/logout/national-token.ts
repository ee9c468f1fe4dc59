/**
 * Validation of a logout token from the national platform (OpenID Connect Back-Channel Logout 1.0
 * §2.6), strictly: signature against the national JWKS with an asymmetric algorithm, `typ`,
 * `iss`, `aud` = the broker's national client id, `iat` and `exp`, the back-channel logout event,
 * no `nonce`, `sub` and/or `sid`, and a `jti` that is accepted once across all broker nodes.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { tunables } from '../../config/defaults.ts';
import type { Store } from '../platform/storage/types.ts';
import { backchannelLogoutEvent } from './token.ts';

/** A refusal; `reason` is a stable code for the log, never shown with token contents. */
export class LogoutTokenRejected extends Error {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super(`logout token rejected: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'LogoutTokenRejected';
    this.reason = reason;
  }
}

/** The national platform's keys could not be fetched: nothing can be decided now. */
export class NationalKeysUnavailable extends Error {
  constructor(cause?: unknown) {
    super('the national JWKS cannot be fetched', cause === undefined ? undefined : { cause });
    this.name = 'NationalKeysUnavailable';
  }
}

export interface NationalLogout {
  readonly sub?: string;
  readonly sid?: string;
}

export interface NationalLogoutTokenVerifierOptions {
  readonly issuer: string;
  /** The broker's client id at the national platform: the only acceptable audience. */
  readonly clientId: string;
  readonly store: Store;
  readonly timeoutMs: number;
  readonly clockToleranceSeconds?: number;
  /** Oldest `iat` accepted (seconds). */
  readonly maxAgeSeconds?: number;
  /** Keys to verify with; default: the JWKS named in the national discovery document. */
  readonly keys?: JWTVerifyGetKey;
}

export type NationalLogoutTokenVerifier = (token: string) => Promise<NationalLogout>;

const algorithms = ['RS256', 'PS256', 'ES256', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512', 'EdDSA', 'Ed25519'];

export function createNationalLogoutTokenVerifier(options: NationalLogoutTokenVerifierOptions): NationalLogoutTokenVerifier {
  const tolerance = options.clockToleranceSeconds ?? tunables.clockToleranceSeconds;
  const maxAge = options.maxAgeSeconds ?? 600;
  let keys: Promise<JWTVerifyGetKey> | undefined = options.keys ? Promise.resolve(options.keys) : undefined;

  function nationalKeys(): Promise<JWTVerifyGetKey> {
    keys ??= (async () => {
      const discovery = new URL('/.well-known/openid-configuration', options.issuer);
      const response = await fetch(discovery, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const metadata = await response.json() as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer !== options.issuer || typeof metadata.jwks_uri !== 'string') throw new Error('discovery document does not match the issuer');
      return createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: options.timeoutMs, cooldownDuration: tunables.nationalJwksCooldownMs });
    })().catch((error: unknown) => {
      keys = undefined; // try again with the next token
      throw new NationalKeysUnavailable(error);
    });
    return keys;
  }

  return async (token) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16 * 1024) throw new LogoutTokenRejected('missing');
    const getKey = await nationalKeys();
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({ payload, protectedHeader: { typ } } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.clientId,
        algorithms,
        clockTolerance: tolerance,
        maxTokenAge: maxAge,
        requiredClaims: ['iat', 'exp', 'jti'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && /fetch/.test(error.message))) throw new NationalKeysUnavailable(error);
      if (error instanceof joseErrors.JWTExpired) throw new LogoutTokenRejected('expired', error);
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new LogoutTokenRejected(`claim_${error.claim}`, error);
      if (error instanceof joseErrors.JOSEAlgNotAllowed) throw new LogoutTokenRejected('algorithm', error);
      if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) throw new LogoutTokenRejected('signature', error);
      throw new LogoutTokenRejected('malformed', error);
    }
    // Explicit typing (RFC 8725 §3.11) keeps ID tokens and other JWTs out; older senders omit it.
    if (typ !== undefined && !/^(application\/)?logout\+jwt$/i.test(typ)) throw new LogoutTokenRejected('typ');
    const events = payload.events as Record<string, unknown> | undefined;
    const event = events && typeof events === 'object' ? events[backchannelLogoutEvent] : undefined;
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw new LogoutTokenRejected('events');
    if ('nonce' in payload) throw new LogoutTokenRejected('nonce');
    const sub = payload.sub;
    const sid = payload.sid;
    if (sub !== undefined && (typeof sub !== 'string' || sub === '')) throw new LogoutTokenRejected('sub');
    if (sid !== undefined && (typeof sid !== 'string' || sid === '')) throw new LogoutTokenRejected('sid');
    if (sub === undefined && sid === undefined) throw new LogoutTokenRejected('no_sub_or_sid');
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw new LogoutTokenRejected('jti');
    // Last, so that a token refused for another reason does not use up its jti.
    const seenKey = `logout:national-jti:${createHash('sha256').update(`${options.issuer}\u0000${payload.jti}`).digest('base64url')}`;
    const ttlMs = Math.max(1, (payload.exp! + tolerance) * 1000 - Date.now()) + 60_000;
    if (!(await options.store.claim(seenKey, ttlMs))) throw new LogoutTokenRejected('replayed');
    return { ...(sub ? { sub } : {}), ...(typeof sid === 'string' ? { sid } : {}) };
  };
}
