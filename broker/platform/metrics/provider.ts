/**
 * Feeds the metrics from oidc-provider: logins answered to apps (authorization success or error,
 * by the app's city), tokens issued by kind, introspections; and puts the broker's metrics in
 * `ctx.state.metrics` for routes that count their own (legacy ticket APIs, rate limits).
 */
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Metrics } from './registry.ts';

/** oidc-provider events that mean a token or grant was issued, and the kind each counts as. */
export const tokenEvents = {
  'access_token.saved': 'access_token',
  'access_token.issued': 'access_token',
  'authorization_code.saved': 'authorization_code',
  'refresh_token.saved': 'refresh_token',
  'client_credentials.saved': 'client_credentials',
  'client_credentials.issued': 'client_credentials',
  'grant.success': 'grant',
} as const;

interface OidcContext {
  readonly oidc?: {
    readonly route?: string;
    readonly client?: { readonly city?: unknown };
    readonly entities?: { readonly Interaction?: { readonly iat?: number } };
  };
}

const cityOf = (ctx: OidcContext) => {
  const city = ctx.oidc?.client?.city;
  return typeof city === 'string' ? city : undefined;
};

/** Seconds since the login interaction began (oidc-provider keeps its start in whole seconds). */
const loginSeconds = (ctx: OidcContext) => {
  const iat = ctx.oidc?.entities?.Interaction?.iat;
  return typeof iat === 'number' ? Math.max(0, Date.now() / 1000 - iat) : undefined;
};

/** The province (division code) of an app, from its member city; undefined when unknown. */
export async function appCity(provider: Provider, clientId: string): Promise<string | undefined> {
  const client = await provider.Client.find(clientId).catch(() => undefined) as { city?: unknown } | undefined;
  return typeof client?.city === 'string' ? client.city : undefined;
}

export function installProviderMetrics(provider: Provider, metrics: Metrics): void {
  // The event names are oidc-provider's; its typings list only part of them.
  const on = provider.on.bind(provider) as unknown as (event: string, listener: (...args: never[]) => void) => void;
  for (const [event, kind] of Object.entries(tokenEvents)) on(event, () => metrics.tokenIssued(kind));
  on('authorization.success', (ctx: OidcContext) => {
    const seconds = loginSeconds(ctx);
    metrics.login({ city: cityOf(ctx), outcome: 'success', ...(seconds !== undefined ? { seconds } : {}) });
  });
  on('authorization.error', (ctx: OidcContext, error: { error?: string }) => {
    const seconds = loginSeconds(ctx);
    metrics.login({ city: cityOf(ctx), outcome: error?.error ?? 'server_error', ...(seconds !== undefined ? { seconds } : {}) });
  });
  const countIntrospection = (ctx: Context) => {
    if ((ctx as OidcContext).oidc?.route === 'introspection' && ctx.status === 200) {
      const body = ctx.body as { active?: unknown } | string | undefined;
      metrics.introspection(typeof body === 'object' && body !== null ? body.active === true : true);
    }
  };
  // Not async: only a POST can be an introspection, and every other request goes on untouched.
  provider.use((ctx: Context, next: Next) => {
    ctx.state.metrics = metrics;
    if (ctx.method !== 'POST') return next();
    return next().then(() => countIntrospection(ctx));
  });
}

/** The broker's metrics from a request, for routes that count their own. */
export function metricsOf(ctx: Context): Metrics | undefined {
  return ctx.state.metrics as Metrics | undefined;
}
