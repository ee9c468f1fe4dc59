/**
 * The simulator's oidc-provider configuration: its clients (the broker), national scopes and
 * claims, levels, cookies, logout, and the full grant the broker always gets.
 */
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { nationalAcrOf, type AssuranceLevel } from '../../../broker/identity/assurance.ts';
import { nationalScopeClaims, nationalScopes } from './contract.ts';
import { loginPolicy } from './levels.ts';
import { say, viewOf } from './messages.ts';
import { errorPage, loggedOutPage, logoutPage } from './pages.ts';
import { claimsFor, type SimulatorState } from './state.ts';

/** The broker is the simulator's only kind of client: it gets every national scope and claim. */
export async function fullGrant(p: Provider, clientId: string, accountId: string | undefined, grantId: string | undefined) {
  if (!accountId) return undefined;
  const existing = grantId ? await p.Grant.find(grantId) : undefined;
  const grant = existing ?? new p.Grant({ clientId, accountId });
  // The broker is the simulator's only kind of client: it gets every national scope and claim.
  grant.addOIDCScope(nationalScopes.join(' '));
  grant.addOIDCClaims(['acr', 'amr', 'auth_time', 'sid', ...Object.values(nationalScopeClaims).flat()]);
  await grant.save();
  return grant;
}

export function configuration(sim: SimulatorState): Configuration {
  return {
    adapter: (name: string) => sim.store.adapter(name),
    clients: sim.options.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      client_name: c.client_name ?? c.client_id,
      redirect_uris: [...c.redirect_uris],
      post_logout_redirect_uris: [...(c.post_logout_redirect_uris ?? [])],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_post',
      id_token_signed_response_alg: c.id_token_signed_response_alg ?? 'RS256',
      ...(c.backchannel_logout_uri
        ? { backchannel_logout_uri: c.backchannel_logout_uri, backchannel_logout_session_required: true }
        : {}),
    })),
    jwks: { keys: [...sim.keyJwks] },
    acrValues: [1, 2, 3, 4].map((l) => nationalAcrOf(l as AssuranceLevel)),
    scopes: [...nationalScopes],
    responseTypes: ['code'],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      ...Object.fromEntries(Object.entries(nationalScopeClaims).map(([scope, names]) => [scope, [...names]])),
      // Always in the ID token: fromNational needs auth_time, and amr tells password from face check.
      openid: [...nationalScopeClaims.openid, 'acr', 'auth_time', 'amr'],
    },
    // Release the scope claims in the ID token too, not only at userinfo.
    conformIdTokenClaims: false,
    cookies: {
      names: { session: `${sim.prefix}_session`, interaction: `${sim.prefix}_interaction`, resume: `${sim.prefix}_resume` },
      keys: [randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form, ctx.host, viewOf(ctx));
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = loggedOutPage(viewOf(ctx));
        },
      },
      userinfo: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => {
      const s = sim.bySub.get(sub);
      if (!s) return undefined;
      return { accountId: sub, claims: () => claimsFor(sim, s) as { sub: string } };
    },
    loadExistingGrant: (ctx: KoaContextWithOIDC) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
      return fullGrant(ctx.oidc.provider, clientId, ctx.oidc.session?.accountId, grantId);
    },
    interactions: {
      policy: loginPolicy(sim),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      const view = viewOf(ctx);
      ctx.body = errorPage(say(view, 'requestErrorTitle'), say(view, 'requestErrorText'), { ...out }, view);
    },
    clientBasedCORS: () => false,
    // The broker listens on loopback; oidc-provider's SSRF guard would refuse to send it logout tokens.
    fetch: (input, init) => {
      const { dispatcher: _guard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(input, rest);
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      RefreshToken: 8 * 3600,
    },
  };
}
