/**
 * The per-client limits, inside oidc-provider: a client is known only once oidc-provider has read
 * the request (body, Basic header or access token), and it looks the client up then. Counting at
 * that lookup refuses an over-limit client before any work; checking the failure count before the
 * secret comparison refuses a client id under attack before any hashing.
 */
import Provider, { errors } from 'oidc-provider';
import type { ClientLimit, RateLimiters, Verdict } from './limits.ts';

/** oidc-provider's route names and the per-client limit each counts against. */
const clientRoutes: Readonly<Record<string, ClientLimit>> = {
  token: 'token',
  introspection: 'introspection',
  revocation: 'revocation',
  userinfo: 'userinfo',
  client: 'registration',
  client_update: 'registration',
  client_delete: 'registration',
};

/** A 429 in oidc-provider's own error rendering: OAuth JSON for clients. */
class TooManyRequests extends errors.OIDCProviderError {
  constructor(retryAfterSeconds: number) {
    super(429, 'temporarily_unavailable');
    this.error_description = `too many requests; retry after ${retryAfterSeconds} seconds`;
  }
}

function refuse(verdict: Extract<Verdict, { allowed: false }>): never {
  Provider.ctx?.set('retry-after', String(verdict.retryAfterSeconds));
  throw new TooManyRequests(verdict.retryAfterSeconds);
}

interface ClientClass {
  find(id: string, ...rest: unknown[]): Promise<unknown>;
  prototype: { clientId: string; compareClientSecret(actual: string): Promise<boolean> | boolean };
}

/**
 * Wraps `Client.find` (per-client request limits) and `compareClientSecret` (failures per client
 * id). Install after every other wrapper of `compareClientSecret`, so this one runs first.
 */
export function installClientLimits(provider: Provider, limits: RateLimiters): void {
  if (!limits.enabled) return;
  const Client = provider.Client as unknown as ClientClass;
  const find = Client.find.bind(Client);
  Client.find = async function findLimited(id: string, ...rest: unknown[]) {
    const ctx = Provider.ctx;
    const limit = ctx?.oidc?.route ? clientRoutes[ctx.oidc.route] : undefined;
    // Counted once per request, however often the request looks its client up.
    if (ctx && limit && typeof id === 'string' && id && !ctx.state.clientLimitCounted) {
      ctx.state.clientLimitCounted = true;
      const verdict = await limits.hit(`client.${limit}`, id);
      if (!verdict.allowed) refuse(verdict);
    }
    return find(id, ...rest);
  };

  const compare = Client.prototype.compareClientSecret;
  Client.prototype.compareClientSecret = async function compareLimited(actual: string) {
    const blocked = await limits.blocked('failure.clientSecretPerClient', this.clientId);
    if (!blocked.allowed) refuse(blocked);
    const matches = await compare.call(this, actual);
    if (!matches) await limits.failed('failure.clientSecretPerClient', this.clientId);
    return matches;
  };
}
