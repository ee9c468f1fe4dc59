/**
 * Why a token was refused, as a stable code (jose style) a service can branch on, with the OAuth
 * error a resource server answers (RFC 6750 §3.1) and the HTTP status that goes with it.
 */

/**
 * Stable refusal codes. Tests and services compare these, never the messages.
 *
 * @example
 * if (error.code === TokenErrorCode.expired) return refreshAndRetry();
 */
export const TokenErrorCode = {
  /** No `Authorization: Bearer` credentials in the request. */
  missing: 'ERR_TOKEN_MISSING',
  /** Not a compact JWS, or its header or claims cannot be read. */
  malformed: 'ERR_TOKEN_MALFORMED',
  /** Signed with an algorithm the verifier does not accept (`none`, HMAC, ...). */
  algorithmNotAllowed: 'ERR_TOKEN_ALG_NOT_ALLOWED',
  /** No key of the issuer's JWKS matches, even after a refetch. */
  keyUnknown: 'ERR_TOKEN_KEY_UNKNOWN',
  signatureInvalid: 'ERR_TOKEN_SIGNATURE_INVALID',
  expired: 'ERR_TOKEN_EXPIRED',
  /** `nbf` or `iat` lies in the future, beyond the allowed clock skew. */
  notYetValid: 'ERR_TOKEN_NOT_YET_VALID',
  issuer: 'ERR_TOKEN_ISSUER',
  audience: 'ERR_TOKEN_AUDIENCE',
  /** The `typ` header does not fit: an ID token where an access token is expected, or the reverse. */
  type: 'ERR_TOKEN_TYPE',
  claimMissing: 'ERR_TOKEN_CLAIM_MISSING',
  claimInvalid: 'ERR_TOKEN_CLAIM_INVALID',
  /** Valid, but without a scope the request needs. */
  insufficientScope: 'ERR_TOKEN_INSUFFICIENT_SCOPE',
  /** The issuer's metadata or JWKS could not be fetched: the token was not judged. */
  keysUnavailable: 'ERR_JWKS_UNAVAILABLE',
} as const;
export type TokenErrorCode = (typeof TokenErrorCode)[keyof typeof TokenErrorCode];

/** The OAuth error a resource server answers for a refusal. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * A refused token. `code` is stable; `message` is safe to show (it never contains the token or
 * its claims); `oauthError` and `status` are what a resource server answers.
 *
 * @example
 * try {
 *   await verifier.verifyAccessToken(token);
 * } catch (error) {
 *   if (error instanceof TokenError && error.code === TokenErrorCode.expired) { ... }
 * }
 */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  readonly oauthError: BearerError;
  readonly status: number;
  /** For `insufficient_scope`: the scopes the request needs. */
  readonly scope: string | undefined;

  constructor(code: TokenErrorCode, message: string, options: { cause?: unknown; scope?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenError';
    this.code = code;
    this.scope = options.scope;
    if (code === TokenErrorCode.insufficientScope) {
      this.oauthError = 'insufficient_scope';
      this.status = 403;
    } else if (code === TokenErrorCode.keysUnavailable) {
      this.oauthError = 'temporarily_unavailable';
      this.status = 503;
    } else {
      this.oauthError = 'invalid_token';
      this.status = 401;
    }
  }
}

/**
 * True for a refusal of the verifier or the middleware.
 *
 * @example
 * if (isTokenError(error)) ctx.status = error.status;
 */
export function isTokenError(value: unknown): value is TokenError {
  return value instanceof TokenError;
}
