/**
 * The benchmark's yardsticks, built as plainly as oidc-provider allows, on the same store as the
 * broker (the same Store and oidc-provider adapter over Redis):
 *
 * - the bare provider: a login form, then code flow, refresh, userinfo, introspection;
 * - the relay: a bare provider whose login is another OpenID Provider (the national simulator),
 *   reached with openid-client (PKCE, state, nonce, ID token signature checked): the minimal
 *   chained pair, without anything the broker adds (adapters, canonical identity, pairwise
 *   subjects, assurance, consent rules).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import type { Context } from 'koa';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import * as oidc from 'openid-client';
import { newGeneration } from '../../../broker/oidc/key-ring.ts';
import { createOidcAdapterFactory } from '../../../broker/oidc/adapter.ts';
import { storeIdKeyOf } from '../../../broker/platform/crypto/store-id-key.ts';
import { createStore } from '../../../broker/platform/storage/index.ts';
import type { Store } from '../../../broker/platform/storage/types.ts';
import { tunables } from '../../../config/defaults.ts';

export interface YardstickOptions {
  readonly issuer: string;
  readonly port: number;
  readonly store: string;
  readonly namespace: string;
  readonly client: ClientMetadata;
  /** For the relay: the upstream OpenID Provider and this relay's client there. */
  readonly upstream?: { readonly issuer: string; readonly clientId: string; readonly clientSecret: string };
}

export interface Yardstick {
  readonly url: string;
  stop(): Promise<void>;
}

async function form(ctx: Context): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const loginPage = (uid: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in</title></head><body>
<form method="post" action="/interaction/${uid}/login">
<input type="text" name="username" value=""><input type="password" name="password">
<button type="submit">Log in</button></form></body></html>`;

async function baseConfiguration(store: Store, options: YardstickOptions, cookiePrefix: string): Promise<Configuration> {
  return {
    // Keyed like the broker's (a fresh deployment secret), so the yardstick pays the same hashing.
    // The same grant-set lifetime as the broker's (its ttl below: the refresh token's 8 hours).
    adapter: createOidcAdapterFactory(store, { idKey: storeIdKeyOf(randomBytes(32)), clockToleranceSeconds: tunables.clockToleranceSeconds, grantTokenLifetimeSeconds: 8 * 3600 }),
    clients: [options.client],
    jwks: { keys: [...(await newGeneration()).keys] as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: { session: `${cookiePrefix}_session`, interaction: `${cookiePrefix}_interaction`, resume: `${cookiePrefix}_resume` },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: { openid: ['sub'], profile: ['name'] },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, name: id }) }),
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    conformIdTokenClaims: false,
    clockTolerance: tunables.clockToleranceSeconds,
    // The one client is first-party: its grant covers what it asks, no consent page.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session?.grantIdFor(client!.clientId);
      const grant = (grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined)
        ?? new ctx.oidc.provider.Grant({ clientId: client!.clientId, accountId: session!.accountId! });
      grant.addOIDCScope([...(ctx.oidc.requestParamScopes ?? [])].join(' '));
      await grant.save();
      return grant;
    },
    ttl: { Session: 8 * 3600, Interaction: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600, RefreshToken: 8 * 3600, Grant: 8 * 3600 },
  };
}

async function listen(provider: Provider, port: number, store: Store): Promise<Yardstick> {
  const server: Server = createServer(provider.callback());
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}

export async function startBareProvider(options: YardstickOptions): Promise<Yardstick> {
  const store = await createStore(options.store, { namespace: options.namespace });
  const provider = new Provider(options.issuer, await baseConfiguration(store, options, 'bare'));
  const router = new Router();
  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = loginPage(details.uid);
  });
  router.post('/interaction/:uid/login', async (ctx) => {
    await provider.interactionDetails(ctx.req, ctx.res);
    const username = (await form(ctx)).get('username') || 'anonymous';
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  });
  provider.use(router.routes());
  return listen(provider, options.port, store);
}

interface Pending {
  readonly uid: string;
  readonly nonce: string;
  readonly verifier: string;
}

export async function startRelay(options: YardstickOptions): Promise<Yardstick> {
  const upstream = options.upstream!;
  const store = await createStore(options.store, { namespace: options.namespace });
  const provider = new Provider(options.issuer, await baseConfiguration(store, options, 'relay'));
  const redirectUri = new URL('/callback', options.issuer).href;
  const configuration = await oidc.discovery(new URL(upstream.issuer), upstream.clientId,
    { redirect_uris: [redirectUri], id_token_signed_response_alg: 'RS256' }, oidc.ClientSecretPost(upstream.clientSecret),
    { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] });

  const router = new Router();
  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await store.set(`relay:${state}`, { uid: details.uid, nonce, verifier } satisfies Pending, 600_000);
    ctx.status = 303;
    ctx.redirect(oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri, scope: 'openid profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).href);
  });
  // The interaction cookie is scoped to /interaction/<uid>: hand the answer over to that path.
  router.get('/callback', async (ctx) => {
    const pending = await store.get<Pending>(`relay:${String(ctx.query.state)}`);
    if (!pending) return ctx.throw(400, 'unknown state');
    ctx.status = 303;
    ctx.redirect(`/interaction/${pending.uid}/callback?${ctx.querystring}`);
  });
  router.get('/interaction/:uid/callback', async (ctx) => {
    const state = String(ctx.query.state);
    const pending = await store.get<Pending>(`relay:${state}`);
    if (!pending || !(await store.claim(`relay-used:${state}`, 600_000))) return ctx.throw(400, 'unknown state');
    await provider.interactionDetails(ctx.req, ctx.res);
    const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${redirectUri}?${ctx.querystring}`), {
      pkceCodeVerifier: pending.verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true,
    });
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: tokens.claims()!.sub } }, { mergeWithLastSubmission: false });
  });
  provider.use(router.routes());
  return listen(provider, options.port, store);
}
