/**
 * Findings of the security and protocol review, each pinned by a test that fails without its fix:
 * the assurance a token announces in a province's dialect is the level of that token's own login,
 * never that of the person's latest login elsewhere; no broker page may be framed by another site;
 * a refused oversized body closes its connection. Beside them, what the review checked and found
 * right, kept as tests: the claims parameter never reaches past an app's scope entitlement, and
 * malformed input to the broker's own routes gets a 4xx standard error. (That the national ID token
 * never goes into a logout URL is checked in flow.logout.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../config/defaults.ts';
import { cliActor } from '../../broker/members/index.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const unserved = 'http://127.0.0.1:9';
const jiangsuPortal: ConfiguredClient = {
  client_id: 'review-suzhou-portal',
  client_secret: 'review-suzhou-portal-secret',
  city: '320500',
  redirect_uris: [`${unserved}/review/suzhou`],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
  first_party: true,
};
/** First-party, not entitled to ID numbers. */
const zhejiangPortal: ConfiguredClient = {
  client_id: 'review-hangzhou-portal',
  client_secret: 'review-hangzhou-portal-secret',
  city: '330100',
  redirect_uris: [`${unserved}/review/hangzhou`],
  scope: 'openid profile phone',
  first_party: true,
};
/** Asks consent, not entitled to ID numbers. */
const shanghaiService: ConfiguredClient = {
  client_id: 'review-shanghai-service',
  client_secret: 'review-shanghai-service-secret',
  city: '310100',
  redirect_uris: [`${unserved}/review/shanghai`],
  scope: 'openid profile',
};
const jiangsuSystem: ConfiguredLegacySystem = {
  province: 'jiangsu',
  city: '320500',
  serviceCode: 'review-sz-sys',
  name: '苏州审查系统',
  callbackUrl: `${unserved}/review/sz-sys`,
  servicePassword: 'review-sz-sys-app-secret',
  scopes: [],
};

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('security review findings', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [jiangsuPortal, zhejiangPortal, shanghaiService], overrides: { legacySystems: [jiangsuSystem] } });
    rp = await relyingParty(federation.issuer, { clientId: jiangsuPortal.client_id, clientSecret: jiangsuPortal.client_secret!, redirectUri: jiangsuPortal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  /** One login (national forms filled in as zhangsan, face check included); the token response. */
  async function loginAt(browser: Browser, params: Record<string, string> = {}) {
    const attempt = await authorizationRequest(rp, params);
    const page = await browse(browser, rp, attempt, 'zhangsan');
    assert.ok(page.location?.startsWith(rp.redirectUri), `no code: ${page.status} ${page.url}`);
    return oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
  }

  async function legacyTicketData(browser: Browser): Promise<Record<string, unknown>> {
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    const page = await browser.follow(`${federation.issuer}/js/auth/login.do?app_id=${jiangsuSystem.serviceCode}`, { stopAt });
    assert.ok(page.location?.startsWith(jiangsuSystem.callbackUrl), `no ticket: ${page.status} ${page.url}`);
    const ticket = new URL(page.location!).searchParams.get('ticket')!;
    const timestamp = String(Date.now());
    const query = new URLSearchParams({ app_id: jiangsuSystem.serviceCode, timestamp, app_sign: md5(jiangsuSystem.serviceCode + jiangsuSystem.servicePassword + timestamp), ticket });
    const answer = await (await fetch(`${federation.issuer}/js/auth/ticketValidate.do?${query}`)).json() as { code: string; data?: Record<string, unknown> };
    assert.equal(answer.code, '0');
    return answer.data!;
  }

  describe('dialect assurance is the level of the token\'s own login', () => {
    // Jiangsu `authLevel`: broker level 3 is 1 (实名), level 4 is 2 (实人).
    const kiosk = new Browser();
    const phone = new Browser();
    let kioskTokens: Awaited<ReturnType<typeof loginAt>>;

    before(async () => {
      kioskTokens = await loginAt(kiosk);
      assert.equal(kioskTokens.claims()!.acr, 'urn:tongban:loa:3');
      assert.equal(kioskTokens.claims()!.authLevel, 1);
      // The same person steps up to level 4 in another browser.
      const stepped = await loginAt(phone, { acr_values: 'urn:tongban:loa:4' });
      assert.equal(stepped.claims()!.acr, 'urn:tongban:loa:4');
      assert.equal(stepped.claims()!.authLevel, 2);
    });

    it('a new login in the level-3 session: ID token and userinfo say level 3 in the dialect too', async () => {
      const tokens = await loginAt(kiosk);
      const claims = tokens.claims()!;
      assert.equal(claims.acr, 'urn:tongban:loa:3');
      assert.equal(claims.authLevel, 1);
      const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.equal(userinfo.authLevel, 1);
    });

    it('a refresh of the level-3 login keeps level 3', async () => {
      const refreshed = await oidc.refreshTokenGrant(rp.config, kioskTokens.refresh_token!);
      assert.equal(refreshed.claims()!.acr, 'urn:tongban:loa:3');
      assert.equal(refreshed.claims()!.authLevel, 1);
      const userinfo = await oidc.fetchUserInfo(rp.config, refreshed.access_token, refreshed.claims()!.sub);
      assert.equal(userinfo.authLevel, 1);
    });

    it('a legacy ticket from the level-3 session says level 3', async () => {
      assert.equal((await legacyTicketData(kiosk)).authLevel, 1);
      assert.equal((await legacyTicketData(phone)).authLevel, 2);
    });
  });

  describe('ID numbers only for apps entitled to them', () => {
    // Every dialect's ID number and join-key claims, asked for by name in the claims parameter.
    const idClaims = ['idnum', 'idtype', 'certKey', 'papersNumber', 'papersType', 'zwdtswCertId', 'zwdtswCertType', 'wst_cert_no'];
    const asked = Object.fromEntries(idClaims.map((name) => [name, null]));
    const claimsParameter = JSON.stringify({ userinfo: asked, id_token: Object.fromEntries(idClaims.map((name) => [name, { essential: true }])) });

    for (const client of [zhejiangPortal, shanghaiService]) {
      it(`${client.first_party ? 'a first-party' : 'a consenting'} app gets none through the claims parameter`, async () => {
        const app = await relyingParty(federation.issuer, { clientId: client.client_id, clientSecret: client.client_secret!, redirectUri: client.redirect_uris[0]! });
        const attempt = await authorizationRequest(app, { scope: 'openid profile', claims: claimsParameter });
        const page = await browse(new Browser(), app, attempt, 'zhangsan', { decision: 'allow' });
        assert.ok(page.location?.startsWith(app.redirectUri), `no code: ${page.status} ${page.url}`);
        const tokens = await oidc.authorizationCodeGrant(app.config, new URL(page.location!), {
          pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
        });
        const idToken = tokens.claims()!;
        const userinfo = await oidc.fetchUserInfo(app.config, tokens.access_token, idToken.sub);
        assert.ok(userinfo.name, 'profile claims are released');
        const certNo = String(federation.simulator.claimsOf('zhangsan').cert_no);
        for (const released of [idToken, userinfo]) {
          assert.deepEqual(idClaims.filter((name) => name in released), []);
          assert.ok(!JSON.stringify(released).includes(certNo), 'the ID number appears nowhere');
        }
      });
    }

    it('asking for the id_number scope without the entitlement is invalid_scope', async () => {
      const app = await relyingParty(federation.issuer, { clientId: zhejiangPortal.client_id, clientSecret: zhejiangPortal.client_secret!, redirectUri: zhejiangPortal.redirect_uris[0]! });
      const attempt = await authorizationRequest(app, { scope: 'openid id_number' });
      const page = await new Browser().follow(attempt.url, { stopAt: (url) => url.href.startsWith(app.redirectUri) });
      assert.equal(new URL(page.location!).searchParams.get('error'), 'invalid_scope');
    });
  });

  describe('pages cannot be framed by another site', () => {
    const framingRefused = (headers: Headers) => {
      assert.equal(headers.get('x-frame-options'), 'DENY');
      assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(headers.get('x-content-type-options'), 'nosniff');
    };

    it('the consent page', async () => {
      const app = await relyingParty(federation.issuer, { clientId: shanghaiService.client_id, clientSecret: shanghaiService.client_secret!, redirectUri: shanghaiService.redirect_uris[0]! });
      const browser = new Browser();
      const attempt = await authorizationRequest(app);
      let page = await browser.follow(attempt.url);
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt: (url) => url.href.startsWith(app.redirectUri) });
      assert.match(page.body, /name="decision" value="allow"/, 'the consent page');
      framingRefused(page.headers);
    });

    it('error pages, oidc-provider\'s sign-out page and the account page', async () => {
      for (const path of ['/interaction/nothing', '/auth?client_id=nobody', '/session/end', '/account']) {
        const page = await new Browser().get(`${federation.issuer}${path}`);
        assert.match(page.headers.get('content-type') ?? '', /html/, path);
        framingRefused(page.headers);
      }
    });
  });

  describe('an oversized body is refused and its connection closed', () => {
    // The rest of the body is never read: reusing the connection would break the caller's next request.
    let operatorKey: string;
    before(async () => {
      operatorKey = (await federation.broker.registry.addOperator(cliActor(), { name: '审查', role: 'federation' })).api_key;
    });
    const big = 'x'.repeat(200 * 1024);
    const cases: Array<[string, string, Record<string, string>, string]> = [
      ['the national back-channel logout', '/national/backchannel-logout', { 'content-type': 'application/x-www-form-urlencoded' }, `logout_token=${big}`],
      ['the Zhejiang legacy API', '/zj/sso/servlet/simpleauth', { 'content-type': 'application/x-www-form-urlencoded' }, `method=ticketValidation&st=${big}`],
      ['the Jiangsu legacy API', '/js/auth/ticketValidate.do', { 'content-type': 'application/x-www-form-urlencoded' }, `ticket=${big}`],
      ['the admin API', '/admin/cities', { 'content-type': 'application/json' }, JSON.stringify({ name: big })],
    ];
    for (const [what, path, headers, body] of cases) {
      it(what, async () => {
        const auth: Record<string, string> = path.startsWith('/admin') ? { authorization: `Bearer ${operatorKey}` } : {};
        const response = await fetch(`${federation.issuer}${path}`, { method: 'POST', headers: { ...headers, ...auth }, body });
        await response.arrayBuffer();
        assert.ok(response.status >= 200 && response.status < 500, `status ${response.status}`);
        assert.equal(response.headers.get('connection'), 'close');
        // The caller's next requests, on whatever connection its client picks, all succeed.
        for (let i = 0; i < 3; i += 1) assert.equal((await fetch(`${federation.issuer}/healthz`)).status, 200);
      });
    }
  });

  describe('malformed input to the broker\'s own routes: a 4xx standard error, never a 500', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: Array<[string, RequestInit?]> = [
      ['/interaction/%E0%A4%A'],
      ['/interaction/nothing/national?state=a&state=b'],
      ['/interaction/nothing/consent', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }],
      ['/interaction/nothing/company', { method: 'POST', headers: form, body: 'credit_code=%E0%A4%A&credit_code=x' }],
      ['/national/callback?state=%E0%A4%A'],
      ['/national/callback?state=a&state=b'],
      ['/national/logged-out?state=a&state=b'],
      ['/national/backchannel-logout', { method: 'POST', headers: form, body: 'logout_token=a.b.c&logout_token=d' }],
      ['/legacy/return?state=%E0%A4%A&code=x'],
      ['/zj/sso/usp.do?action=ssoLogin&servicecode=a&servicecode=b'],
      ['/zj/sso/usp.do?action=ssoLogin&servicecode=%E0%A4%A'],
      ['/js/auth/login.do?app_id=%00'],
      ['/admin/cities/%E0%A4%A', { headers: { authorization: 'Bearer tbo_%%%' } }],
      ['/reg', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: '{' }],
      ['/reg/%E0%A4%A', { headers: { authorization: 'Bearer x' } }],
      ['/auth?client_id=a&client_id=b'],
      ['/auth?client_id=%E0%A4%A'],
      ['/token', { method: 'POST', headers: form, body: 'grant_type=%E0%A4%A' }],
      ['/session/end?id_token_hint=not-a-jwt'],
      ['/session/end/confirm', { method: 'POST', headers: form, body: 'xsrf=x&logout=yes' }],
      ['/auth/nothing'],
    ];
    for (const [path, init] of cases) {
      it(`${init?.method ?? 'GET'} ${path}`, async () => {
        const response = await fetch(`${federation.issuer}${path}`, { redirect: 'manual', ...init });
        const body = await response.text();
        assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}`);
        assert.doesNotMatch(body, /\bat .+:\d+:\d+|Error:|node_modules/, 'no stack trace or internals');
      });
    }
    // Legacy APIs answer in their own format with HTTP 200 and a documented failure code.
    it('the legacy APIs answer malformed calls with their documented code', async () => {
      const zj = await (await fetch(`${federation.issuer}/zj/sso/servlet/simpleauth?method=%E0%A4%A&method=x`)).json() as { result: string };
      assert.equal(zj.result, '6006');
      const js = await (await fetch(`${federation.issuer}/js/auth/ticketValidate.do?app_id=a&app_id=b`, { method: 'POST', headers: form, body: 'ticket=%E0%A4%A' })).json() as { code: string };
      assert.equal(js.code, '1006');
    });
  });
});
