/**
 * A small demo portal: a provincial service's front page that logs people in through tongban with
 * nothing but standard OpenID Connect (openid-client: discovery, code flow, PKCE, state, nonce), as a
 * person, for a company or at level 4, and shows in words what it received; every dead end of a
 * login (reload, tampered state, cancel) is a page with a way on, in the person's language.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import * as oidc from 'openid-client';
import { routes } from '../../../config/defaults.ts';
import { readFormBody } from '../form-body.ts';
import { brokerDiscovery, cookieSessions } from '../relying-party.ts';
import { createLogoutTokenCheck, type CheckLogoutToken } from './backchannel-logout.ts';
import { claimRows, dialectOf } from './claims.ts';
import { deadEndPage, demoPage, escapeHtml } from './layout.ts';
import { demoLanguage, translate, type DemoLanguage, type DemoMessageKey } from './messages.ts';
import { companyNameOf, serviceAnswerTable } from './service-answer.ts';

const faceLevel = 'urn:tongban:loa:4';

export interface DemoPortalOptions {
  readonly brokerIssuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Public base URL of the portal, e.g. http://127.0.0.1:3200 */
  readonly baseUrl: string;
  readonly host?: string;
  readonly port: number;
  readonly title: string;
  /** The scopes of a personal login; `legal_person` in it adds the company button (that scope is asked for there only). */
  readonly scope?: string;
  /** The member city's code (e.g. 330100): names the province's dialect on the page. */
  readonly city?: string;
  /** Cookie name of the portal's own session (distinct per portal: cookies ignore ports). */
  readonly cookieName?: string;
  /** Called with each valid logout token received at `/backchannel-logout` (e.g. an audit trail). */
  readonly onLogoutToken?: (logoutToken: string) => void;
  /** APIs the portal calls with the person's access token for them (a button each; see scripts/demo-service). */
  readonly services?: readonly DemoPortalService[];
  /** Links shown to a signed-in person: other sites of the federation (another province's portal, a service desk). */
  readonly links?: ReadonlyArray<{ readonly label: string; readonly labelEn?: string; readonly url: string }>;
}

/** An API the portal calls on the person's behalf. */
export interface DemoPortalService {
  readonly label: string;
  /** The label on English pages (default: `label`). */
  readonly labelEn?: string;
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

const companyScope = 'legal_person';

export function createDemoPortal(options: DemoPortalOptions): DemoPortal {
  const sessions = cookieSessions<PortalSession>(options.cookieName ?? 'demo_portal_sid');
  const redirectUri = new URL('/callback', options.baseUrl).href;
  const accountUrl = new URL(routes.account, options.brokerIssuer).href;
  const scopes = (options.scope ?? 'openid profile phone').split(' ').filter(Boolean);
  const companyLogin = scopes.includes(companyScope);
  const personalScopes = scopes.filter((s) => s !== companyScope);
  const discover = brokerDiscovery({ brokerIssuer: options.brokerIssuer, clientId: options.clientId, clientSecret: options.clientSecret, redirectUri });
  const sessionOf = (ctx: Koa.Context): PortalSession => sessions.of(ctx);
  const render = (ctx: Koa.Context, language: DemoLanguage, title: string, body: string) => {
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = demoPage({ language, site: options.title, title, body, path: ctx.path === '/callback' ? '/' : ctx.path });
  };
  const deadEnd = (ctx: Koa.Context, language: DemoLanguage, status: number, title: string, message: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = deadEndPage({
      language, site: options.title, title, message, path: '/',
      ways: [{ href: '/login', label: translate(language, 'signInAgain'), id: 'sign-in-again' }, { href: '/', label: translate(language, 'home'), id: 'home' }],
    });
  };

  const app = new Koa();
  const router = new Router();
  router.get('/', (ctx) => {
    const language = demoLanguage(ctx);
    const session = sessionOf(ctx);
    if (!session.claims) {
      const choice = (id: string, href: string, label: DemoMessageKey, why: DemoMessageKey) =>
        `<li><a class="button" id="${id}" href="${href}">${escapeHtml(translate(language, label))}</a><p class="why">${escapeHtml(translate(language, why))}</p></li>`;
      render(ctx, language, options.title, `<div class="card"><p>${escapeHtml(translate(language, 'pleaseSignIn'))}</p><ul class="choices">
${choice('login', '/login', 'loginPerson', 'loginPersonWhy')}
${companyLogin ? choice('login-company', '/login?as=company', 'loginCompany', 'loginCompanyWhy') : ''}
${choice('login-face', `/login?acr_values=${encodeURIComponent(faceLevel)}`, 'loginFace', 'loginFaceWhy')}
</ul><p class="why">${escapeHtml(translate(language, 'demoAccounts'))}</p></div>`);
      return;
    }
    render(ctx, language, options.title, signedInBody(language, session));
  });

  const signedInBody = (language: DemoLanguage, session: PortalSession) => {
    const claims = session.claims!;
    const name = String(session.userinfo?.name ?? claims.name ?? claims.sub);
    const company = companyNameOf({ ...session.userinfo, ...claims });
    const rows = claimRows(claims, session.userinfo, language);
    const dialect = dialectOf(options.city, language);
    const table = `<table id="claims"><caption class="why">${escapeHtml(translate(language, 'receivedWhy'))}</caption><thead><tr><th scope="col">${escapeHtml(translate(language, 'field'))}</th><th scope="col">${escapeHtml(translate(language, 'value'))}</th><th scope="col">${escapeHtml(translate(language, 'meaning'))}</th></tr></thead><tbody>${rows.map((r) =>
      `<tr data-claim="${escapeHtml(r.name)}"><th scope="row">${escapeHtml(r.label)}<br><code>${escapeHtml(r.name)}</code></th><td class="value">${escapeHtml(r.value)}</td><td>${escapeHtml(r.meaning ?? '')}${r.from === 'userinfo' ? `<span class="why"> (${escapeHtml(translate(language, 'fromUserinfo'))})</span>` : ''}</td></tr>`).join('')}</tbody></table>`;
    const links = (options.links ?? []).map((l) => `<li><a href="${escapeHtml(l.url)}">${escapeHtml(language === 'en' ? l.labelEn ?? l.label : l.label)}</a></li>`).join('');
    return `<div class="card"><p id="who">${escapeHtml(translate(language, 'hello', { name: company ? `${name}（${company}）` : name }))}</p>
<p><a id="account" href="${escapeHtml(accountUrl)}">${escapeHtml(translate(language, 'accountLink'))}</a></p>
<p>${claims.acr === faceLevel ? '' : `<a class="button" id="login-face" href="/login?acr_values=${encodeURIComponent(faceLevel)}">${escapeHtml(translate(language, 'loginFace'))}</a> `}${companyLogin ? `<a class="button" id="login-company" href="/login?as=company">${escapeHtml(translate(language, 'loginCompany'))}</a> ` : ''}<a class="button secondary" id="logout" href="/logout">${escapeHtml(translate(language, 'signOut'))}</a></p></div>
${servicePanel(language, session)}
${links ? `<div class="card"><h2>${escapeHtml(translate(language, 'otherPortals'))}</h2><ul>${links}</ul></div>` : ''}
<div class="card"><h2>${escapeHtml(translate(language, 'receivedTitle'))}</h2>${dialect ? `<p id="dialect">${escapeHtml(dialect)}</p>` : ''}${table}</div>`;
  };

  const servicePanel = (language: DemoLanguage, session: PortalSession) => {
    const services = options.services ?? [];
    if (services.length === 0) return '';
    const answer = session.serviceAnswer;
    return `<div class="card"><h2>${escapeHtml(translate(language, 'servicesTitle'))}</h2><p>${services.map((s, i) => `<a class="button" id="service-${i}" href="/service/${i}">${escapeHtml(language === 'en' ? s.labelEn ?? s.label : s.label)}</a>`).join(' ')}</p>${answer
      ? `<h3 id="service-heading">${escapeHtml(translate(language, 'serviceAnswer', { label: answer.label }))} · HTTP ${answer.status}</h3>${serviceAnswerTable(answer.body, language)}<details><summary>${escapeHtml(translate(language, 'rawAnswer'))}</summary><pre id="service-answer">${escapeHtml(answer.body)}</pre></details>`
      : ''}</div>`;
  };

  router.get('/login', async (ctx) => {
    const language = demoLanguage(ctx);
    let config: oidc.Configuration;
    try {
      config = await discover();
    } catch {
      deadEnd(ctx, language, 503, translate(language, 'deadEndTitle'), translate(language, 'brokerUnreachable'));
      return;
    }
    const session = sessionOf(ctx);
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    session.pending = pending;
    const services = options.services ?? [];
    const asCompany = companyLogin && ctx.query.as === 'company';
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: [...personalScopes, ...(asCompany ? [companyScope] : []), ...services.map((s) => s.scope)].join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ui_locales: language,
    };
    if (asCompany) params.prompt = 'select_account';
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
    const language = demoLanguage(ctx);
    const session = sessionOf(ctx);
    const pending = session.pending;
    session.pending = undefined;
    const error = typeof ctx.query.error === 'string' ? ctx.query.error : undefined;
    if (error === 'access_denied' && pending && ctx.query.state === pending.state) {
      deadEnd(ctx, language, 200, translate(language, 'cancelledTitle'), translate(language, 'cancelled'));
      return;
    }
    if (!pending) {
      // A reload of the callback, or Back to it: a signed-in person simply goes on.
      if (session.claims) {
        ctx.redirect('/');
        return;
      }
      deadEnd(ctx, language, 400, translate(language, 'deadEndTitle'), translate(language, 'noLoginInProgress'));
      return;
    }
    if (ctx.query.state !== pending.state) {
      deadEnd(ctx, language, 400, translate(language, 'deadEndTitle'), translate(language, 'stateMismatch'));
      return;
    }
    try {
      const config = await discover();
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
    } catch (failure) {
      const err = failure as { error?: string; message: string };
      const reason = err.error ?? (error ? error : 'invalid_response');
      deadEnd(ctx, language, 400, translate(language, 'deadEndTitle'), translate(language, 'loginFailed', { reason, ref: randomBytes(4).toString('hex') }));
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
      ui_locales: demoLanguage(ctx),
      ...(idToken ? { id_token_hint: idToken } : { client_id: options.clientId }),
    }).href);
  });
  // Back-channel logout: the broker says a session ended; the portal's sessions of it end too.
  let checkLogoutToken: CheckLogoutToken | undefined;
  router.post('/backchannel-logout', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const token = (await readFormBody(ctx)).get('logout_token') ?? '';
    try {
      const metadata = (await discover()).serverMetadata();
      checkLogoutToken ??= createLogoutTokenCheck({ issuer: metadata.issuer, clientId: options.clientId, jwksUri: metadata.jwks_uri! });
      const { sub, sid } = await checkLogoutToken(token);
      for (const session of sessions.all.values()) {
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
