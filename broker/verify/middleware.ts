/**
 * A koa middleware for resource servers: takes the bearer token (RFC 6750 §2.1, header only),
 * verifies it as an access token, checks the scopes the route needs, and answers refusals the way
 * RFC 6750 §3 says, with a log line that carries the refusal code and no personal data.
 */
import type { Context, Middleware, Next } from 'koa';
import { TokenError, TokenErrorCode, isTokenError } from './errors.ts';
import type { AccessTokenClaims, Verifier, VerifiedToken } from './verifier.ts';

/** Where refusals are written; tongban's `Logger` fits, as does anything with `info`. */
export interface RefusalLogger {
  info(event: string, fields: Record<string, string | number | undefined>): void;
}

export interface RequireTokenOptions {
  readonly verifier: Verifier;
  /** Scopes the route needs, all of them (a space-separated string or a list). */
  readonly scope?: string | readonly string[];
  /** `realm` of the WWW-Authenticate challenge (default `tongban`). */
  readonly realm?: string;
  /** Default: one JSON line on stderr per refusal. */
  readonly logger?: RefusalLogger;
}

/** What `requireToken` leaves in `ctx.state.token` for the handlers after it. */
export type TokenState = VerifiedToken<AccessTokenClaims>;

const stderrLogger: RefusalLogger = {
  info(event, fields) {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event, ...fields })}\n`);
  },
};

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

function bearerOf(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/**
 * Requires a valid tongban access token on every request through it. On success the verified
 * token is in `ctx.state.token` (`claims`, `header`, `scopes`); otherwise the answer is 401
 * `invalid_token` (or 403 `insufficient_scope`, or 503 when the issuer's keys cannot be fetched)
 * with a `WWW-Authenticate: Bearer` challenge and a JSON body `{ error, error_description, code }`.
 *
 * @example
 * import Koa from 'koa';
 * import { createVerifier, requireToken } from 'tongban/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://tongban.example.gov.cn', audience: 'https://gjj.sh.example.gov.cn/api' });
 * const app = new Koa();
 * app.use(requireToken({ verifier, scope: 'gjj:read' }));
 * app.use((ctx) => { ctx.body = { sub: ctx.state.token.claims.sub }; });
 */
export function requireToken(options: RequireTokenOptions): Middleware {
  const needed = typeof options.scope === 'string' ? options.scope.split(' ').filter(Boolean) : [...(options.scope ?? [])];
  const realm = options.realm ?? 'tongban';
  const logger = options.logger ?? stderrLogger;

  const refuse = (ctx: Context, error: TokenError, clientId?: string) => {
    const parts = [`realm=${quoted(realm)}`];
    // Without any credentials the challenge names no error (RFC 6750 §3.1).
    if (error.code !== TokenErrorCode.missing && error.oauthError !== 'temporarily_unavailable') {
      parts.push(`error=${quoted(error.oauthError)}`, `error_description=${quoted(error.message)}`);
      if (error.scope) parts.push(`scope=${quoted(error.scope)}`);
    }
    ctx.status = error.status;
    if (error.status !== 503) ctx.set('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: error.oauthError, error_description: error.message, code: error.code };
    // The route pattern, not the path: a path may carry an identifier of the person.
    const route = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
    logger.info('token_refused', { code: error.code, status: error.status, method: ctx.method, route: typeof route === 'string' ? route : undefined, client_id: clientId });
  };

  return async (ctx: Context, next: Next) => {
    const token = bearerOf(ctx);
    if (!token) {
      const present = ctx.get('authorization') !== '';
      refuse(ctx, new TokenError(present ? TokenErrorCode.malformed : TokenErrorCode.missing, present ? 'the Authorization header is not a Bearer token' : 'a bearer access token is required'));
      return;
    }
    let verified: TokenState;
    try {
      verified = await options.verifier.verifyAccessToken(token);
    } catch (error) {
      if (!isTokenError(error)) throw error;
      refuse(ctx, error);
      return;
    }
    const missing = needed.filter((scope) => !verified.scopes.has(scope));
    if (missing.length) {
      refuse(ctx, new TokenError(TokenErrorCode.insufficientScope, 'the token lacks a scope this request needs', { scope: needed.join(' ') }), verified.claims.client_id);
      return;
    }
    ctx.state.token = verified;
    await next();
  };
}
