/**
 * The national-platform simulator: a real OpenID Provider (oidc-provider) standing in for
 * 国家政务服务平台 统一身份认证 in tests and the demo. Its interface, people, levels and
 * misbehaviours are documented in scripts/simulator/README.md.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type Koa from 'koa';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { levelFromNationalAcr, nationalAcrOf, type AssuranceLevel } from '../../../broker/identity/assurance.ts';
import type { NationalEntity } from '../../../broker/national/claims.ts';
import { accountStates, certKeyOf, demoCompanies, demoPassword, type AccountState } from './accounts.ts';
import { MemoryStore } from './adapter.ts';
import { idTokenMisbehaviours, isMisbehaviour, rewriteIdToken, spoilCheckChar, type Misbehaviour, type SigningKey } from './misbehaviour.ts';
import { errorPage, facePage, loggedOutPage, loginPage, logoutPage } from './pages.ts';

export { demoAccounts, demoCompanies, demoPassword, type DemoAccount, type DemoCompany } from './accounts.ts';
export { misbehaviours, type Misbehaviour } from './misbehaviour.ts';

export const defaultSimulatorPort = 3100;
export const defaultBrokerClientId = 'tongban-broker';
export const defaultBrokerClientSecret = 'tongban-broker-development-secret';
export const defaultBrokerRedirectUri = 'http://127.0.0.1:3000/national/callback';
export const defaultBrokerPostLogoutRedirectUri = 'http://127.0.0.1:3000/national/logged-out';
export const defaultBrokerBackchannelLogoutUri = 'http://127.0.0.1:3000/national/backchannel-logout';

/** Scopes the simulator knows and the claims each releases. */
export const nationalScopeClaims = {
  openid: ['sub'],
  profile: ['name'],
  phone: ['phone_number'],
  id_number: ['cert_type', 'cert_no', 'cert_key'],
  entities: ['entities'],
} as const;
export const nationalScopes = Object.keys(nationalScopeClaims) as Array<keyof typeof nationalScopeClaims>;

const backchannelLogoutEvent = 'http://schemas.openid.net/event/backchannel-logout';
const residentCheckChars = '10X98765432';
const creditAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export interface SimulatorClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  readonly backchannel_logout_uri?: string;
  /** Default `client_secret_post` (what openid-client uses when given a secret). */
  readonly token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic';
  /** Default `RS256`. */
  readonly id_token_signed_response_alg?: 'RS256' | 'ES256';
  readonly client_name?: string;
}

/** The broker as the simulator's client, with the development defaults. */
export function defaultBrokerClient(): SimulatorClient {
  return {
    client_id: defaultBrokerClientId,
    client_secret: defaultBrokerClientSecret,
    redirect_uris: [defaultBrokerRedirectUri],
    post_logout_redirect_uris: [defaultBrokerPostLogoutRedirectUri],
    backchannel_logout_uri: defaultBrokerBackchannelLogoutUri,
    client_name: '通办 tongban',
  };
}

export interface NationalSimulatorOptions {
  /** e.g. `http://127.0.0.1:3100`; no path. With `port: 0` its port is replaced by the real one. */
  readonly issuer: string;
  /** Port to listen on; defaults to the issuer's. `0` picks a free one. */
  readonly port?: number;
  readonly clients: readonly SimulatorClient[];
  /** Cookie names are `<prefix>_session`, `<prefix>_interaction`, `<prefix>_resume`. Default `national`. */
  readonly cookiePrefix?: string;
  /** Epoch milliseconds; anchors mandate expiries and the tokens the simulator forges. Default `Date.now`. */
  readonly now?: () => number;
}

export interface MisbehaveOptions {
  /** For `slow`: delay of every response, milliseconds (default 3000). */
  readonly delayMs?: number;
}

/** One national session of a person, as the simulator holds it. */
export interface NationalSession {
  readonly uid: string;
  readonly sub: string;
  readonly acr: string | undefined;
  readonly amr: readonly string[];
  /** Epoch seconds of the authentication. */
  readonly authTime: number | undefined;
  /** `sid` per client that took part in the session. */
  readonly sids: Readonly<Record<string, string>>;
}

export interface BackchannelDelivery {
  readonly clientId: string;
  readonly sid: string | undefined;
  /** HTTP status of the client's answer; undefined when the request failed. */
  readonly status: number | undefined;
  readonly error?: string;
}

export interface NationalSimulator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The issuer identifier (final once `start()` resolved). */
  readonly issuer: string;
  /** Where it listens, `http://host:port`. */
  readonly url: string;
  /** The misbehaviour in force, if any. */
  readonly mode: Misbehaviour | undefined;
  /** Switches to one misbehaviour (replacing any other). Await it: `down` closes the listening socket. */
  misbehave(mode: Misbehaviour, options?: MisbehaveOptions): Promise<void>;
  /** Back to normal; reopens the listening socket after `down`. */
  behave(): Promise<void>;
  /** The national platform stops listing this mandate. */
  revokeMandate(username: string, creditCode: string): void;
  setMandateExpiry(username: string, creditCode: string, epochSeconds: number): void;
  /** The claims the simulator currently releases for a person (what ID token and userinfo carry, minus acr/amr/auth_time). */
  claimsOf(username: string): Record<string, unknown>;
  /** The opaque national `sub` of a demo account. */
  subjectOf(username: string): string;
  sessionsOf(username: string): NationalSession[];
  /** A back-channel logout token for a person and client, signed with the simulator's key. */
  logoutToken(username: string, clientId: string, sid?: string): Promise<string>;
  /**
   * National logout without a browser: ends the person's national sessions and POSTs a logout token
   * to each client with a `backchannel_logout_uri` that took part (one per `sid`). With no national
   * session, every such client gets one token carrying `sub` only.
   */
  backchannelLogout(username: string): Promise<BackchannelDelivery[]>;
}

/**
 * The lowest level named in `acr_values` or in `claims.id_token.acr` (`value` or `values`),
 * whichever is higher: levels are ordered, so any level at or above it satisfies the request.
 */
export function requestedLevel(params: Record<string, unknown> | undefined): AssuranceLevel | undefined {
  const floor = (values: unknown[]): number | undefined => {
    const levels = values.map((v) => levelFromNationalAcr(v)).filter((v): v is AssuranceLevel => v !== undefined);
    return levels.length ? Math.min(...levels) : undefined;
  };
  const floors: number[] = [];
  if (typeof params?.acr_values === 'string') {
    const level = floor(params.acr_values.split(' '));
    if (level !== undefined) floors.push(level);
  }
  if (typeof params?.claims === 'string') {
    try {
      const acr = (JSON.parse(params.claims) as { id_token?: { acr?: { value?: unknown; values?: unknown } } })?.id_token?.acr;
      const values = Array.isArray(acr?.values) ? acr.values : acr?.value !== undefined ? [acr.value] : [];
      const level = floor(values);
      if (level !== undefined) floors.push(level);
    } catch {
      // oidc-provider has already rejected malformed claims parameters.
    }
  }
  return floors.length ? (Math.max(...floors) as AssuranceLevel) : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function passwordMatches(given: string): boolean {
  return timingSafeEqual(digest(given), digest(demoPassword));
}

async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) ctx.throw(413);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function signingKey(alg: 'RS256' | 'ES256'): Promise<{ key: SigningKey; jwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { key: { alg, kid, privateKey: pair.privateKey }, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

interface PendingFaceCheck {
  readonly accountId: string;
  /** Epoch milliseconds after which the pending check is dropped. */
  readonly until: number;
}

export function createNationalSimulator(options: NationalSimulatorOptions): NationalSimulator {
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const prefix = options.cookiePrefix ?? 'national';
  const configured = new URL(options.issuer);
  if (configured.pathname !== '/' || configured.search || configured.hash) {
    throw new TypeError('the simulator issuer must be an origin without a path');
  }
  const host = configured.hostname.replace(/^\[(.*)\]$/, '$1');
  const wantedPort = options.port ?? Number(configured.port || (configured.protocol === 'https:' ? 443 : 80));
  let issuer = configured.origin;
  let listenPort = wantedPort;

  const states = accountStates(nowSeconds());
  const bySub = new Map<string, AccountState>([...states.values()].map((s) => [s.account.sub, s]));
  const clients = new Map(options.clients.map((c) => [c.client_id, c]));
  const store = new MemoryStore();
  const pendingFace = new Map<string, PendingFaceCheck>();
  const foreignKeys = new Map<string, Promise<CryptoKey>>();
  const keys = new Map<string, SigningKey>();
  let keyJwks: JWK[] = [];

  let mode: Misbehaviour | undefined;
  let delayMs = 3000;
  let server: Server | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  function state(username: string): AccountState {
    const found = states.get(username);
    if (!found) throw new Error(`no demo account ${username}`);
    return found;
  }

  function mandate(username: string, creditCode: string): NationalEntity {
    const entity = state(username).entities.find((e) => e.credit_code === creditCode);
    if (!entity) throw new Error(`${username} has no entity ${creditCode}`);
    return entity;
  }

  function claimsFor(s: AccountState): Record<string, unknown> {
    const { account } = s;
    let entities: NationalEntity[] = structuredClone(s.entities);
    if (mode === 'bad-credit-code') {
      const [first, ...rest] = entities;
      const spoiled = first ?? {
        credit_code: demoCompanies.jiaxing.creditCode,
        name: demoCompanies.jiaxing.name,
        org_type: demoCompanies.jiaxing.orgType,
        role: 'legal_representative' as const,
      };
      entities = [{ ...spoiled, credit_code: spoilCheckChar(spoiled.credit_code, creditAlphabet) }, ...rest];
    }
    return {
      sub: account.sub,
      name: account.name,
      cert_type: account.certType,
      cert_no: mode === 'bad-id-number' ? spoilCheckChar(account.certNo, residentCheckChars) : account.certNo,
      ...(account.phone ? { phone_number: account.phone } : {}),
      cert_key: certKeyOf(account.certNo, account.name),
      entities,
    };
  }

  function sessions(username: string): Array<[string, NationalSession]> {
    const { sub } = state(username).account;
    return store.entries('Session')
      .filter(([, payload]) => payload.accountId === sub)
      .map(([id, payload]) => [id, {
        uid: String(payload.uid),
        sub,
        acr: payload.acr,
        amr: payload.amr ?? [],
        authTime: payload.loginTs,
        sids: Object.fromEntries(Object.entries(payload.authorizations ?? {})
          .flatMap(([clientId, a]) => (a.sid ? [[clientId, a.sid]] : []))),
      }]);
  }

  async function logoutToken(username: string, clientId: string, sid?: string): Promise<string> {
    const client = clients.get(clientId);
    if (!client) throw new Error(`no client ${clientId}`);
    const key = keys.get(client.id_token_signed_response_alg ?? 'RS256');
    if (!key) throw new Error('the simulator has not been started');
    const iat = nowSeconds();
    return new SignJWT({ events: { [backchannelLogoutEvent]: {} }, ...(sid ? { sid } : {}) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
      .setIssuer(issuer)
      .setAudience(clientId)
      .setSubject(state(username).account.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 120)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(key.privateKey);
  }

  async function deliver(client: SimulatorClient, username: string, sid: string | undefined): Promise<BackchannelDelivery> {
    const token = await logoutToken(username, client.client_id, sid);
    try {
      const response = await fetch(client.backchannel_logout_uri!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
        redirect: 'manual',
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      return { clientId: client.client_id, sid, status: response.status };
    } catch (error) {
      return { clientId: client.client_id, sid, status: undefined, error: error instanceof Error ? error.message : String(error) };
    }
  }

  function prunePending(): void {
    const t = Date.now();
    for (const [uid, pending] of pendingFace) if (pending.until < t) pendingFace.delete(uid);
  }

  function policy(): interactionPolicy.Prompt[] {
    const base = interactionPolicy.base();
    const login = base.get('login')!;
    // Levels are ordered: the acr_step_up check below replaces the exact-match acr checks.
    login.checks.remove('essential_acrs');
    login.checks.remove('essential_acr');
    login.checks.add(new interactionPolicy.Check('acr_step_up', 'a higher assurance level is requested', (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const wanted = requestedLevel(ctx.oidc.params);
      const account = bySub.get(accountId)?.account;
      if (wanted === undefined || !account) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const current = levelFromNationalAcr(ctx.oidc.session?.acr) ?? 1;
      return wanted > current && account.maxLevel >= wanted
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }));
    // Forces an interaction even with a live session, so `error-callback` also hits single sign-on.
    login.checks.add(new interactionPolicy.Check('simulated_denial', 'the national platform denies the request', () =>
      mode === 'error-callback' ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT));
    return base;
  }

  async function fullGrant(p: Provider, clientId: string, accountId: string | undefined, grantId: string | undefined) {
    if (!accountId) return undefined;
    const existing = grantId ? await p.Grant.find(grantId) : undefined;
    const grant = existing ?? new p.Grant({ clientId, accountId });
    // The broker is the simulator's only kind of client: it gets every national scope and claim.
    grant.addOIDCScope(nationalScopes.join(' '));
    grant.addOIDCClaims(['acr', 'amr', 'auth_time', 'sid', ...Object.values(nationalScopeClaims).flat()]);
    await grant.save();
    return grant;
  }

  function configuration(): Configuration {
    return {
      adapter: (name: string) => store.adapter(name),
      clients: options.clients.map((c) => ({
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
      jwks: { keys: [...keyJwks] },
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
        names: { session: `${prefix}_session`, interaction: `${prefix}_interaction`, resume: `${prefix}_resume` },
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
            ctx.body = logoutPage(form, ctx.host);
          },
          postLogoutSuccessSource: (ctx) => {
            ctx.type = 'html';
            ctx.body = loggedOutPage();
          },
        },
        userinfo: { enabled: true },
        revocation: { enabled: true },
      },
      pkce: { required: () => true },
      findAccount: (_ctx, sub) => {
        const s = bySub.get(sub);
        if (!s) return undefined;
        return { accountId: sub, claims: () => claimsFor(s) as { sub: string } };
      },
      loadExistingGrant: (ctx: KoaContextWithOIDC) => {
        const clientId = ctx.oidc.client!.clientId;
        const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
        return fullGrant(ctx.oidc.provider, clientId, ctx.oidc.session?.accountId, grantId);
      },
      interactions: {
        policy: policy(),
        url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      },
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.body = errorPage('请求出错', 'The request could not be processed.', { ...out });
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

  function interactionRoutes(p: Provider): Koa.Middleware {
    const router = new Router();

    const finish = async (ctx: Koa.Context, result: Parameters<Provider['interactionResult']>[2]) => {
      const returnTo = await p.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };
    const deny = (ctx: Koa.Context, description: string) =>
      finish(ctx, { error: 'access_denied', error_description: description });
    const clientName = (clientId: unknown) => clients.get(String(clientId))?.client_name ?? String(clientId);
    const login = (ctx: Koa.Context, s: AccountState, amr: string[], level: AssuranceLevel) =>
      finish(ctx, { login: { accountId: s.account.sub, acr: nationalAcrOf(level), amr, remember: true } });

    // Every route re-reads the interaction: that checks the uid against its path-scoped cookie.
    const guarded = (fn: (ctx: Koa.Context) => Promise<void>): Koa.Middleware => async (ctx) => {
      try {
        await fn(ctx);
      } catch (error) {
        if (!(error instanceof errors.SessionNotFound)) throw error;
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = errorPage('登录已失效', 'This login attempt has expired. Please start again from the application.');
      }
    };

    router.get('/interaction/:uid', guarded(async (ctx) => {
      const interaction = await p.interactionDetails(ctx.req, ctx.res);
      ctx.set('cache-control', 'no-store');
      if (mode === 'error-callback') return deny(ctx, 'the national platform denied the request');
      const { prompt, params, session, uid } = interaction;
      if (prompt.name === 'login') {
        const stepUpOnly = session?.accountId !== undefined && prompt.reasons.every((r) => r === 'acr_step_up');
        const s = session?.accountId ? bySub.get(session.accountId) : undefined;
        if (stepUpOnly && s) {
          prunePending();
          pendingFace.set(uid, { accountId: s.account.sub, until: Date.now() + 600_000 });
          ctx.type = 'html';
          ctx.body = facePage(uid, s.account.name);
          return;
        }
        ctx.type = 'html';
        ctx.body = loginPage({
          uid,
          clientName: clientName(params.client_id),
          ...(typeof params.login_hint === 'string' ? { username: params.login_hint } : {}),
        });
        return;
      }
      // Only the consent prompt is left; the broker is first-party, so it is granted at once.
      const grant = await fullGrant(p, String(params.client_id), session?.accountId, interaction.grantId);
      if (!grant) return deny(ctx, 'no account to grant to');
      return finish(ctx, { consent: { grantId: grant.jti } });
    }));

    router.post('/interaction/:uid/login', guarded(async (ctx) => {
      const interaction = await p.interactionDetails(ctx.req, ctx.res);
      ctx.set('cache-control', 'no-store');
      if (interaction.prompt.name !== 'login') ctx.throw(400, 'not a login interaction');
      const form = await readForm(ctx);
      const username = (form.get('username') ?? '').trim();
      const s = states.get(username);
      // Same answer for an unknown user and a wrong password.
      if (!passwordMatches(form.get('password') ?? '') || !s) {
        ctx.type = 'html';
        ctx.body = loginPage({ uid: interaction.uid, clientName: clientName(interaction.params.client_id), username, error: true });
        return;
      }
      const wanted = requestedLevel(interaction.params);
      if (wanted !== undefined && wanted > s.account.loginLevel && s.account.maxLevel >= wanted) {
        prunePending();
        pendingFace.set(interaction.uid, { accountId: s.account.sub, until: Date.now() + 600_000 });
        ctx.type = 'html';
        ctx.body = facePage(interaction.uid, s.account.name);
        return;
      }
      return login(ctx, s, ['pwd'], s.account.loginLevel);
    }));

    router.post('/interaction/:uid/face', guarded(async (ctx) => {
      const interaction = await p.interactionDetails(ctx.req, ctx.res);
      ctx.set('cache-control', 'no-store');
      const pending = pendingFace.get(interaction.uid);
      const s = pending ? bySub.get(pending.accountId) : undefined;
      if (!pending || !s || pending.until < Date.now()) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = errorPage('人脸识别未开始', 'No face check is pending for this login.');
        return;
      }
      pendingFace.delete(interaction.uid);
      return login(ctx, s, ['pwd', 'face'], s.account.maxLevel);
    }));

    router.get('/interaction/:uid/abort', guarded(async (ctx) => {
      await p.interactionDetails(ctx.req, ctx.res);
      pendingFace.delete(String(ctx.params.uid));
      return deny(ctx, 'the person cancelled the login');
    }));

    return router.routes() as unknown as Koa.Middleware;
  }

  function install(p: Provider): void {
    p.use(async (_ctx, next) => {
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, delayMs));
      await next();
    });
    p.use(async (ctx, next) => {
      await next();
      if (mode === 'wrong-response-iss' && (ctx.status === 302 || ctx.status === 303)) {
        const location = ctx.response.get('location');
        if (location.includes('iss=')) {
          const url = new URL(location);
          url.searchParams.set('iss', 'https://impostor.example.cn');
          ctx.set('location', url.href);
        }
      }
    });
    p.use(async (ctx, next) => {
      await next();
      if (!mode || !idTokenMisbehaviours.has(mode) || ctx.method !== 'POST' || ctx.path !== '/token' || ctx.status !== 200) return;
      const body = ctx.body as Record<string, unknown> | undefined;
      if (!body || typeof body.id_token !== 'string') return;
      const aud = decodeJwt(body.id_token).aud;
      const clientId = Array.isArray(aud) ? aud[0] : aud;
      ctx.body = {
        ...body,
        id_token: await rewriteIdToken(mode, body.id_token, {
          keys,
          clientSecret: clientId ? clients.get(clientId)?.client_secret : undefined,
          nowSeconds: nowSeconds(),
          foreignKeys,
        }),
      };
    });
    p.use(interactionRoutes(p));
  }

  function listen(s: Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      s.once('error', onError);
      s.listen(port, host, () => {
        s.off('error', onError);
        resolve();
      });
    });
  }

  function close(s: Server): Promise<void> {
    return new Promise((resolve) => {
      if (!s.listening) {
        s.closeAllConnections();
        resolve();
        return;
      }
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  return {
    get issuer() {
      return issuer;
    },
    get url() {
      const shown = host.includes(':') ? `[${host}]` : host;
      return `${configured.protocol}//${shown}:${listenPort}`;
    },
    get mode() {
      return mode;
    },

    async start() {
      if (server) throw new Error('the simulator is already started');
      const generated = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
      for (const { key } of generated) keys.set(key.alg, key);
      keyJwks = generated.map((g) => g.jwk);

      const s = createServer((req, res) => {
        if (handler) {
          handler(req, res);
          return;
        }
        res.statusCode = 503;
        res.end();
      });
      server = s;
      await listen(s, wantedPort);
      listenPort = (s.address() as AddressInfo).port;
      if (wantedPort === 0) {
        const fixed = new URL(configured.href);
        fixed.port = String(listenPort);
        issuer = fixed.origin;
      }
      const p = new Provider(issuer, configuration());
      install(p);
      handler = p.callback();
    },

    async stop() {
      handler = undefined;
      const s = server;
      server = undefined;
      if (s) await close(s);
    },

    async misbehave(next, misbehaveOptions) {
      if (!isMisbehaviour(next)) throw new TypeError(`unknown misbehaviour ${String(next)}`);
      if (mode === 'down' && next !== 'down' && server) await listen(server, listenPort);
      mode = next;
      delayMs = misbehaveOptions?.delayMs ?? 3000;
      if (next === 'down' && server?.listening) await close(server);
    },

    async behave() {
      const was = mode;
      mode = undefined;
      if (was === 'down' && server && !server.listening) await listen(server, listenPort);
    },

    revokeMandate(username, creditCode) {
      mandate(username, creditCode);
      const s = state(username);
      s.entities = s.entities.filter((e) => e.credit_code !== creditCode);
    },

    setMandateExpiry(username, creditCode, epochSeconds) {
      const entity = mandate(username, creditCode);
      if (!entity.mandate) throw new Error(`${username} is not an agent of ${creditCode}`);
      const s = state(username);
      s.entities = s.entities.map((e) => (e === entity ? { ...e, mandate: { scope: [...entity.mandate!.scope], expires_at: epochSeconds } } : e));
    },

    claimsOf(username) {
      return claimsFor(state(username));
    },

    subjectOf(username) {
      return state(username).account.sub;
    },

    sessionsOf(username) {
      return sessions(username).map(([, session]) => session);
    },

    logoutToken,

    async backchannelLogout(username) {
      const live = sessions(username);
      for (const [id] of live) store.remove('Session', id);
      const targets = options.clients.filter((c) => c.backchannel_logout_uri);
      const jobs: Array<Promise<BackchannelDelivery>> = [];
      for (const client of targets) {
        if (live.length === 0) {
          jobs.push(deliver(client, username, undefined));
          continue;
        }
        for (const [, session] of live) {
          const sid = session.sids[client.client_id];
          if (sid) jobs.push(deliver(client, username, sid));
        }
      }
      return Promise.all(jobs);
    },
  };
}
