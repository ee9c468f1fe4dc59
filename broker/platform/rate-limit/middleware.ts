/**
 * The koa middleware of the rate limits, installed on the provider app (`provider.use`): a table
 * maps paths to per-address limits, checked before the request runs; failures the response shows
 * (a wrong operator key, a client refused as invalid_client, a wrong legacy signature) are counted
 * after it, and an address with too many is refused before any work for a while.
 */
import type { Context, Middleware, Next } from 'koa';
import type { AddressLimit, FailureLimit, RateLimiters } from './limits.ts';
import { respondTooMany } from './respond.ts';

/** One line of the table: requests whose path matches count against `limit` per address. */
export interface PathLimit {
  readonly limit?: AddressLimit;
  readonly matches: (path: string, method: string) => boolean;
  /** Failures after which the address (and the service, for legacy calls) is refused. */
  readonly failures?: FailureLimit;
}

/** What a legacy call's answer leaves for the limits (set by broker/legacy/protocol.ts). */
export interface LegacyOutcomeState {
  readonly result: string;
  readonly service?: string;
}

export interface PathTableOptions {
  /** oidc-provider's paths: `provider.pathFor(...)`. */
  readonly authorization: string;
  readonly registration: string;
  readonly token: string;
  readonly introspection: string;
  readonly revocation: string;
  readonly adminPrefix?: string;
}

/** The legacy ticket APIs service systems call, signed with their password. */
const legacyCallPaths = new Set(['/zj/sso/servlet/simpleauth', '/js/auth/ticketValidate.do']);

const under = (prefix: string) => (path: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The broker's doors. Legacy login entries are the provinces' old login URLs and the return from the national platform. */
export function brokerPathTable(paths: PathTableOptions): PathLimit[] {
  const admin = under(paths.adminPrefix ?? '/admin');
  const clientAuth = new Set([paths.token, paths.introspection, paths.revocation]);
  return [
    { limit: 'authorization', matches: (path) => path === paths.authorization },
    { limit: 'interactions', matches: (path) => path.startsWith('/interaction/') || path === '/national/callback' },
    { limit: 'legacyLogin', matches: (path) => ['/zj/sso/usp.do', '/js/auth/login.do', '/legacy/return'].includes(path) },
    { limit: 'adminApi', matches: admin, failures: 'operatorKeyPerAddress' },
    { limit: 'registration', matches: (path, method) => path === paths.registration && method === 'POST' },
    // Client endpoints count requests per client (./clients.ts); here only their failures per address.
    { matches: (path) => clientAuth.has(path), failures: 'clientSecretPerAddress' },
    { matches: (path) => legacyCallPaths.has(path), failures: 'legacySignaturePerAddress' },
  ];
}

/** Which failures a finished request shows. */
function failureOf(ctx: Context, line: PathLimit): boolean {
  switch (line.failures) {
    case 'operatorKeyPerAddress':
      return ctx.status === 401;
    case 'clientSecretPerAddress':
      return ctx.status === 401 && (ctx.body as { error?: string } | undefined)?.error === 'invalid_client';
    case 'legacySignaturePerAddress':
      return (ctx.state.legacyOutcome as LegacyOutcomeState | undefined)?.result === 'badSign';
    default:
      return false;
  }
}

export function rateLimitMiddleware(limits: RateLimiters, table: readonly PathLimit[]): Middleware {
  return async (ctx: Context, next: Next) => {
    if (!limits.enabled) return next();
    const line = table.find((entry) => entry.matches(ctx.path, ctx.method));
    if (!line) return next();
    const address = ctx.ip || 'unknown';
    if (line.failures) {
      const blocked = await limits.blocked(`failure.${line.failures}`, address);
      if (!blocked.allowed) return respondTooMany(ctx, blocked.retryAfterSeconds);
    }
    if (line.limit) {
      const verdict = await limits.hit(`address.${line.limit}`, address);
      if (!verdict.allowed) return respondTooMany(ctx, verdict.retryAfterSeconds);
    }
    await next();
    if (line.failures && failureOf(ctx, line)) {
      await limits.failed(`failure.${line.failures}`, address);
      const service = (ctx.state.legacyOutcome as LegacyOutcomeState | undefined)?.service;
      if (line.failures === 'legacySignaturePerAddress' && service) await limits.failed('failure.legacySignaturePerService', service);
    }
  };
}

/** A legacy call names its service (`servicecode`, `app_id`) in the query or its form body: refused at once while that service is blocked. */
export function legacyServiceGuard(limits: RateLimiters, serviceOf: (ctx: Context) => Promise<string | undefined>): Middleware {
  return async (ctx: Context, next: Next) => {
    if (!limits.enabled || !legacyCallPaths.has(ctx.path)) return next();
    // POST is the documented way to call: the service is read from the form body as well.
    const service = await serviceOf(ctx);
    if (typeof service === 'string' && service) {
      const blocked = await limits.blocked('failure.legacySignaturePerService', service);
      if (!blocked.allowed) return respondTooMany(ctx, blocked.retryAfterSeconds);
    }
    return next();
  };
}
