/**
 * A small demo portal: a provincial service's front page that logs people in through tongban with
 * nothing but standard OpenID Connect (openid-client: discovery, code flow, PKCE, state, nonce).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import * as oidc from 'openid-client';
import { escapeHtml } from '../../../broker/platform/pages/layout.ts';
import { createLogoutTokenCheck, type CheckLogoutToken } from './backchannel-logout.ts';

export interface DemoPortalOptions {
  readonly brokerIssuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Public base URL of the portal, e.g. http://127.0.0.1:3200 */
  readonly baseUrl: string;
  readonly host?: string;
  readonly port: number;
  readonly title: string;
  readonly scope?: string;
  /** Cookie name of the portal's own session (distinct per portal: cookies ignore ports). */
  readonly cookieName?: string;
  /** Called with each valid logout token received at `/backchannel-logout` (e.g. an audit trail). */
  readonly onLogoutToken?: (logoutToken: string) => void;
  /** APIs the portal calls with the person's access token for them (a button each; see scripts/demo-service). */
  readonly services?: readonly DemoPortalService[];
}

/** An API the portal calls on the person's behalf. */
export interface DemoPortalService {
  readonly label: string;
  /** Its resource indicator (RFC 8707), asked for at login. */
  readonly resource: string;
  /** The scopes it needs, asked for at login. */
  readonly scope: string;
  /** The URL the portal calls with `Authorization: Bearer`. */
  readonly url: string;
}

interface PortalSession {
  pending?: { state: string; nonce: string; codeVerifier: string };
  idToken?: string;
  claims?: Record<string, unknown>;
  userinfo?: Record<string, unknown>;
  refreshToken?: string;
  serviceAnswer?: { label: string; status: number; body: string };
}

export interface DemoPortal {
  start(): Promise<string>;
  stop(): Promise<void>;
}

const style = 'body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1f2933}a.button,button{background:#1456b8;color:#fff;border:0;border-radius:6px;padding:.6rem 1.4rem;font-size:1rem;text-decoration:none;cursor:pointer}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #d9dee3;padding:.3rem .6rem;text-align:left;font-size:.9rem}';

export function createDemoPortal(options: DemoPortalOptions): DemoPortal {
  const sessions = new Map<string, PortalSession>();
  const cookieName = options.cookieName ?? 'demo_portal_sid';
  const redirectUri = new URL('/callback', options.baseUrl).href;
  let configuration: Promise<oidc.Configuration> | undefined;
  const discover = () => {
    configuration ??= oidc.discovery(new URL(options.brokerIssuer), options.clientId, { redirect_uris: [redirectUri] },
      oidc.ClientSecretBasic(options.clientSecret),
      new URL(options.brokerIssuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
  const sessionOf = (ctx: Koa.Context): PortalSession => {
    let sid = ctx.cookies.get(cookieName);
    if (!sid || !sessions.has(sid)) {
      sid = randomBytes(16).toString('base64url');
      sessions.set(sid, {});
      ctx.cookies.set(cookieName, sid, { httpOnly: true, sameSite: 'lax' });
    }
    return sessions.get(sid)!;
  };

  const servicePanel = (session: PortalSession) => {
    const services = options.services ?? [];
    if (services.length === 0) return '';
    const answer = session.serviceAnswer;
    return `<h2>业务办理 · Services</h2><p>${services.map((s, i) => `<a class="button" id="service-${i}" href="/service/${i}">${escapeHtml(s.label)}</a>`).join(' ')}</p>${answer
      ? `<h3>${escapeHtml(answer.label)} · HTTP ${answer.status}</h3><pre id="service-answer">${escapeHtml(answer.body)}</pre>`
      : ''}`;
  };

  const app = new Koa();
  const router = new Router();
  router.get('/', (ctx) => {
    const session = sessionOf(ctx);
    const rows = (claims: Record<string, unknown> | undefined) => Object.entries(claims ?? {})
      .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`).join('');
    ctx.type = 'html';
    ctx.body = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title><style>${style}</style></head><body>
<h1>${escapeHtml(options.title)}</h1>
${session.claims
    ? `<p id="who">您好，${escapeHtml(session.userinfo?.name ?? session.claims.sub)}</p><h2>ID token</h2><table id="id-token">${rows(session.claims)}</table><h2>UserInfo</h2><table id="userinfo">${rows(session.userinfo)}</table>${servicePanel(session)}<p><a class="button" id="logout" href="/logout">退出 · Sign out</a></p>`
    : '<p>请登录后办理业务。 · Please sign in.</p><p><a class="button" id="login" href="/login">登录 · Sign in</a></p>'}
</body></html>`;
  });
  router.get('/login', async (ctx) => {
    const config = await discover();
    const session = sessionOf(ctx);
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    session.pending = pending;
    const services = options.services ?? [];
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: [options.scope ?? 'openid profile phone', ...services.map((s) => s.scope)].join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    };
    for (const name of ['acr_values', 'prompt', 'max_age']) {
      const value = ctx.query[name];
      if (typeof value === 'string') params[name] = value;
    }
    const query = new URLSearchParams(params);
    for (const service of services) query.append('resource', service.resource);
    ctx.redirect(oidc.buildAuthorizationUrl(config, query).href);
  });
  // Calls an API with an access token for it alone (RFC 8707: the refresh token names the resource).
  router.get('/service/:index', async (ctx) => {
    const session = sessionOf(ctx);
    const service = options.services?.[Number(ctx.params.index)];
    if (!service || !session.refreshToken) {
      ctx.redirect('/');
      return;
    }
    const label = service.label;
    try {
      const tokens = await oidc.refreshTokenGrant(await discover(), session.refreshToken, { resource: service.resource });
      session.refreshToken = tokens.refresh_token ?? session.refreshToken;
      const response = await fetch(service.url, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } });
      session.serviceAnswer = { label, status: response.status, body: await response.text() };
    } catch (error) {
      const err = error as { error?: string; message: string };
      session.serviceAnswer = { label, status: 0, body: err.error ?? err.message };
    }
    ctx.redirect('/');
  });
  router.get('/callback', async (ctx) => {
    const config = await discover();
    const session = sessionOf(ctx);
    const pending = session.pending;
    session.pending = undefined;
    if (!pending) {
      ctx.status = 400;
      ctx.body = 'no login in progress';
      return;
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.baseUrl), {
        pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      session.idToken = tokens.id_token;
      session.claims = { ...claims };
      session.userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      session.refreshToken = tokens.refresh_token;
      session.serviceAnswer = undefined;
      ctx.redirect('/');
    } catch (error) {
      ctx.status = 400;
      ctx.type = 'html';
      const err = error as { error?: string; error_description?: string; message: string };
      ctx.body = `<!doctype html><meta charset="utf-8"><style>${style}</style><h1>登录失败 · Sign-in failed</h1><p id="error">${escapeHtml(err.error ?? err.message)}</p><p>${escapeHtml(err.error_description ?? '')}</p><p><a href="/">返回 · Back</a></p>`;
    }
  });
  router.get('/logout', async (ctx) => {
    const config = await discover();
    const session = sessionOf(ctx);
    const idToken = session.idToken;
    session.claims = undefined;
    session.userinfo = undefined;
    session.idToken = undefined;
    session.refreshToken = undefined;
    session.serviceAnswer = undefined;
    ctx.redirect(oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: new URL('/', options.baseUrl).href,
      ...(idToken ? { id_token_hint: idToken } : { client_id: options.clientId }),
    }).href);
  });
  // Back-channel logout: the broker says a session ended; the portal's sessions of it end too.
  let checkLogoutToken: CheckLogoutToken | undefined;
  router.post('/backchannel-logout', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 16 * 1024) ctx.throw(413);
      chunks.push(chunk);
    }
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '';
    try {
      const metadata = (await discover()).serverMetadata();
      checkLogoutToken ??= createLogoutTokenCheck({ issuer: metadata.issuer, clientId: options.clientId, jwksUri: metadata.jwks_uri! });
      const { sub, sid } = await checkLogoutToken(token);
      for (const session of sessions.values()) {
        if (sid ? session.claims?.sid === sid : session.claims?.sub === sub) {
          session.claims = undefined;
          session.userinfo = undefined;
          session.idToken = undefined;
        }
      }
      options.onLogoutToken?.(token);
      ctx.status = 200;
      ctx.body = '';
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'invalid logout token' };
    }
  });
  app.use(router.routes());

  let server: Server | undefined;
  return {
    async start() {
      server = createServer(app.callback());
      await new Promise<void>((resolve) => server!.listen(options.port, options.host ?? '127.0.0.1', resolve));
      return `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
    },
  };
}
