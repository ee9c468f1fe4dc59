/**
 * Checks tongban's tokens with nothing but the issuer URL and the expected audience: the issuer's
 * keys come from its published JWKS (found through discovery), cached, and fetched again when a
 * token names a key not seen yet (signing key rotation).
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTHeaderParameters, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { TokenError, TokenErrorCode } from './errors.ts';

/** Asymmetric JWS algorithms a verifier may accept. HMAC and `none` are refused by construction. */
export type VerifierAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA' | 'Ed25519';

const asymmetric = new Set<string>(['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519']);

export interface VerifierOptions {
  /** The broker's issuer URL, exactly as in its discovery document (`iss`). */
  readonly issuer: string;
  /** The expected `aud`: the resource identifier for access tokens, the client id for ID tokens. */
  readonly audience: string | readonly string[];
  /** Accepted algorithms (default ES256 and RS256). Symmetric algorithms and `none` throw a TypeError. */
  readonly algorithms?: readonly VerifierAlgorithm[];
  /** Allowed clock skew for `exp`, `nbf` and `iat` (default 5 s). */
  readonly clockToleranceSeconds?: number;
  /** Claims that must be present besides the standard ones (e.g. `acr`, `scope`). */
  readonly requiredClaims?: readonly string[];
  /** The JWKS URL; by default read once from the issuer's `/.well-known/openid-configuration`. */
  readonly jwksUri?: string | URL;
  /** How long fetched keys are trusted before a refetch (default 600 s). */
  readonly jwksCacheMaxAgeSeconds?: number;
  /** Least time between two fetches, also for unknown `kid`s (default 30 s). */
  readonly jwksCooldownSeconds?: number;
  /** Time-out of each fetch (default 5000 ms). */
  readonly timeoutMs?: number;
  /** A fetch implementation (proxies, custom CA); default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** RFC 9068 access token claims as tongban issues them. */
export interface AccessTokenClaims extends JWTPayload {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  /** The app the token was issued to (for an exchanged token, the calling service). */
  readonly client_id: string;
  readonly scope?: string;
  /** Assurance level of the person's authentication (`urn:tongban:loa:1..4`). */
  readonly acr?: string;
  readonly auth_time?: number;
  /** RFC 8693: the service acting on the person's behalf, earlier actors nested. */
  readonly act?: { readonly sub: string; readonly act?: AccessTokenClaims['act'] };
}

/** OpenID Connect ID token claims. */
export interface IdTokenClaims extends JWTPayload {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly exp: number;
  readonly iat: number;
  readonly nonce?: string;
  readonly acr?: string;
  readonly amr?: string[];
  readonly auth_time?: number;
}

export interface VerifiedToken<Claims> {
  readonly claims: Claims;
  readonly header: JWTHeaderParameters;
  /** The `scope` claim as a set (empty when absent). */
  readonly scopes: ReadonlySet<string>;
}

export interface IdTokenChecks {
  /** The nonce sent in the authorization request. */
  readonly nonce?: string;
}

export interface Verifier {
  /** Checks an RFC 9068 access token (`typ: at+jwt`). Rejects with a `TokenError`. */
  verifyAccessToken(token: string): Promise<VerifiedToken<AccessTokenClaims>>;
  /** Checks an OpenID Connect ID token (no `typ`, or `JWT`). Rejects with a `TokenError`. */
  verifyIdToken(token: string, checks?: IdTokenChecks): Promise<VerifiedToken<IdTokenClaims>>;
}

const accessTokenClaims = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];
const idTokenClaims = ['iss', 'sub', 'aud', 'exp', 'iat'];

function claimError(error: errors.JWTClaimValidationFailed): TokenError {
  const { claim, reason } = error;
  if (reason === 'missing') return new TokenError(TokenErrorCode.claimMissing, `the token has no "${claim}" claim`, { cause: error });
  switch (claim) {
    case 'nbf':
    case 'iat':
      return new TokenError(TokenErrorCode.notYetValid, 'the token is not valid yet', { cause: error });
    case 'iss':
      return new TokenError(TokenErrorCode.issuer, 'the token is from another issuer', { cause: error });
    case 'aud':
      return new TokenError(TokenErrorCode.audience, 'the token is meant for another audience', { cause: error });
    case 'typ':
      return new TokenError(TokenErrorCode.type, 'the token is of another type', { cause: error });
    default:
      return new TokenError(TokenErrorCode.claimInvalid, `the "${claim}" claim is invalid`, { cause: error });
  }
}

/** Maps jose's errors (and fetch failures) to stable refusal codes. */
function refusal(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError(TokenErrorCode.expired, 'the token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) return claimError(error);
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError(TokenErrorCode.algorithmNotAllowed, 'the token is signed with an algorithm that is not accepted', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenError(TokenErrorCode.keyUnknown, 'the token is signed with a key the issuer does not publish', { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenError(TokenErrorCode.signatureInvalid, 'the token signature is invalid', { cause: error });
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC') {
    return new TokenError(TokenErrorCode.keysUnavailable, 'the issuer keys could not be fetched', { cause: error });
  }
  return new TokenError(TokenErrorCode.malformed, 'the token is malformed', { cause: error });
}

/**
 * Creates a verifier for one issuer and audience. Keys are fetched on first use and cached; a
 * token naming an unknown `kid` triggers one refetch (after the cooldown), which is how a signing
 * key rotation at the broker reaches the service without a restart.
 *
 * @example
 * import { createVerifier } from 'tongban/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://tongban.example.gov.cn', audience: 'https://gjj.sh.example.gov.cn/api' });
 * const { claims, scopes } = await verifier.verifyAccessToken(bearerToken);
 * if (!scopes.has('gjj:read')) throw new Error('insufficient scope');
 * console.log(claims.sub, claims.acr, claims.act?.sub);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = [...(options.algorithms ?? ['ES256', 'RS256'])];
  for (const alg of algorithms) {
    if (!asymmetric.has(alg)) throw new TypeError(`createVerifier: algorithm "${alg}" is not accepted (symmetric algorithms and "none" never are)`);
  }
  if (algorithms.length === 0) throw new TypeError('createVerifier: at least one algorithm');
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) throw new TypeError('createVerifier: issuer must be a URL');
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) throw new TypeError('createVerifier: audience is required');
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;

  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const keys = () => {
    keySet ??= (async () => {
      const jwksUri = options.jwksUri ? new URL(options.jwksUri) : await discoverJwksUri(options.issuer, fetchImpl, timeoutMs);
      return createRemoteJWKSet(jwksUri, {
        timeoutDuration: timeoutMs,
        cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000,
        cacheMaxAge: (options.jwksCacheMaxAgeSeconds ?? 600) * 1000,
        [customFetch]: fetchImpl,
      });
    })().catch((error: unknown) => {
      // Discovery failed: the next token tries again.
      keySet = undefined;
      throw error;
    });
    return keySet;
  };

  async function verify<Claims>(token: string, typ: 'at+jwt' | undefined, required: readonly string[]): Promise<VerifiedToken<Claims>> {
    if (typeof token !== 'string' || token === '') throw new TokenError(TokenErrorCode.malformed, 'the token is malformed');
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch (error) {
      throw new TokenError(TokenErrorCode.malformed, 'the token is malformed', { cause: error });
    }
    // An ID token carries no typ (or JWT); anything typed otherwise (at+jwt, logout+jwt, ...) is not one.
    if (typ === undefined && header.typ !== undefined && header.typ.toLowerCase().replace(/^application\//, '') !== 'jwt') {
      throw new TokenError(TokenErrorCode.type, 'the token is of another type');
    }
    try {
      const getKey = await keys();
      const { payload, protectedHeader } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience,
        algorithms,
        clockTolerance,
        ...(typ ? { typ } : {}),
        requiredClaims: [...new Set([...required, ...(options.requiredClaims ?? [])])],
      });
      // jose checks `iat` only against a maximum age; one from the future is refused here.
      if (typeof payload.iat !== 'number' || payload.iat > Math.floor(Date.now() / 1000) + clockTolerance) {
        throw new TokenError(TokenErrorCode.notYetValid, 'the token is not valid yet');
      }
      const scope = (payload as { scope?: unknown }).scope;
      return {
        claims: payload as Claims,
        header: protectedHeader as JWTHeaderParameters,
        scopes: new Set(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []),
      };
    } catch (error) {
      throw refusal(error);
    }
  }

  return {
    verifyAccessToken: (token) => verify<AccessTokenClaims>(token, 'at+jwt', accessTokenClaims),
    async verifyIdToken(token, checks = {}) {
      const verified = await verify<IdTokenClaims>(token, undefined, checks.nonce === undefined ? idTokenClaims : [...idTokenClaims, 'nonce']);
      if (checks.nonce !== undefined && verified.claims.nonce !== checks.nonce) {
        throw new TokenError(TokenErrorCode.claimInvalid, 'the "nonce" claim is invalid');
      }
      return verified;
    },
  };
}

async function discoverJwksUri(issuer: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<URL> {
  const url = new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (response.status !== 200) throw new TokenError(TokenErrorCode.keysUnavailable, 'the issuer metadata could not be fetched');
  const metadata = await response.json() as { issuer?: unknown; jwks_uri?: unknown };
  // The metadata must be the issuer's own (OpenID Connect Discovery §4.3).
  if (metadata.issuer !== issuer) throw new TokenError(TokenErrorCode.keysUnavailable, 'the issuer metadata names another issuer');
  if (typeof metadata.jwks_uri !== 'string' || !URL.canParse(metadata.jwks_uri)) throw new TokenError(TokenErrorCode.keysUnavailable, 'the issuer metadata has no jwks_uri');
  return new URL(metadata.jwks_uri);
}
