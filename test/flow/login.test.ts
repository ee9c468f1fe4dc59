/**
 * Brokered login end to end: relying party (openid-client) → broker → national-platform simulator
 * → broker → relying party, over real HTTP, with every token checked the way a client would.
 */
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { parseResidentId } from '../../broker/identity/identifiers.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, login, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { hangzhouPortal, withSessions } from '../support/clients.ts';

const portal: ConfiguredClient = hangzhouPortal({ ...withSessions, scope: 'openid profile phone id_number' });
const thirdParty: ConfiguredClient = {
  client_id: 'suzhou-service',
  client_secret: 'suzhou-service-secret',
  client_name: '苏州公积金查询',
  city: '320500',
  redirect_uris: ['http://127.0.0.1:9/suzhou/callback'],
  scope: 'openid profile phone',
};

describe('brokered login (end to end)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;
  let third: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal, thirdParty] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    third = await relyingParty(federation.issuer, { clientId: thirdParty.client_id, clientSecret: thirdParty.client_secret!, redirectUri: thirdParty.redirect_uris[0]! });
  });
  after(async () => federation?.stop());
  afterEach(async () => federation.simulator.behave());

  it('publishes a standard discovery document', async () => {
    const metadata = rp.config.serverMetadata();
    assert.equal(metadata.issuer, federation.issuer);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.ok(metadata.id_token_signing_alg_values_supported?.includes('ES256'));
    assert.ok(metadata.id_token_signing_alg_values_supported?.includes('RS256'));
    assert.ok(metadata.introspection_endpoint && metadata.revocation_endpoint && metadata.end_session_endpoint && metadata.userinfo_endpoint);
    assert.ok((metadata.acr_values_supported as string[]).includes('urn:tongban:loa:4'));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  });

  it('logs zhangsan in; ID token, userinfo, refresh, introspection, revocation and logout work', async () => {
    const browser = new Browser();
    const { tokens, callback } = await login(browser, rp, 'zhangsan', { scope: 'openid profile phone id_number' });
    assert.equal(callback.searchParams.get('iss'), federation.issuer, 'RFC 9207 iss in the authorization response');

    // The ID token verifies with jose alone against the published JWKS.
    const jwks = createRemoteJWKSet(new URL(rp.config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: federation.issuer, audience: portal.client_id });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.name, '张三');
    assert.equal(payload.acr, 'urn:tongban:loa:3');
    assert.ok(typeof payload.sub === 'string' && payload.sub.length >= 32);
    const national = federation.simulator.claimsOf('zhangsan');
    assert.notEqual(payload.sub, federation.simulator.subjectOf('zhangsan'), 'the national subject is never passed on');
    assert.ok(!JSON.stringify(payload).includes(String(national.cert_no)) || payload.idnum === national.cert_no);
    assert.ok(!payload.sub.includes(String(national.cert_no)));

    // Zhejiang dialect beside the standard claims.
    const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, payload.sub);
    assert.equal(userinfo.name, '张三');
    assert.equal(userinfo.phone_number, national.phone_number);
    assert.equal(userinfo.idnum, national.cert_no);
    assert.ok(parseResidentId(String(userinfo.idnum)));
    assert.equal(userinfo.authlevel, 3);

    // Refresh tokens rotate: the new one works.
    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token);
    assert.ok(refreshed.access_token && refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);

    // Introspection, then revocation.
    const active = await oidc.tokenIntrospection(rp.config, refreshed.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, portal.client_id);
    assert.equal(active.sub, payload.sub);
    await oidc.tokenRevocation(rp.config, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(rp.config, refreshed.access_token)).active, false);

    // Reusing the rotated-out refresh token is refused and ends the whole grant (reuse detection).
    await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token), (error: { error?: string }) => error.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');

    // RP-initiated logout with id_token_hint, post_logout_redirect_uri and state.
    const end = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: portal.post_logout_redirect_uris![0]!, state: 'bye-1' });
    const confirm = await browser.follow(end);
    assert.equal(confirm.status, 200);
    const stopAtPortal = (u: URL) => u.href.startsWith('http://127.0.0.1:9/');
    let done = await browser.submitForm(confirm.body, confirm.url, { logout: 'yes' }, { stopAt: stopAtPortal });
    // Single logout goes on to the national platform, which asks its own confirmation (docs/sso-logout.md).
    if (!done.location) done = await browser.submitForm(done.body, done.url, {}, { stopAt: stopAtPortal });
    const back = new URL(done.location!);
    assert.equal(back.origin + back.pathname, portal.post_logout_redirect_uris![0]);
    assert.equal(back.searchParams.get('state'), 'bye-1');
    // The session is gone: a silent check answers login_required.
    const silent = await authorizationRequest(rp, { prompt: 'none' });
    const page = await browser.follow(silent.url, { stopAt: stopAtRedirectUri(rp) });
    assert.equal(new URL(page.location!).searchParams.get('error'), 'login_required');
  });

  it('asks consent for an app that is not first-party, and honours a refusal', async () => {
    const browser = new Browser();
    const attempt = await authorizationRequest(third, { scope: 'openid profile' });
    const consent = await browse(browser, third, attempt, 'wangwu', {});
    // browse() submits the consent form with its first button: 同意 (allow).
    assert.ok(consent.location?.startsWith(third.redirectUri), consent.body.slice(0, 200));
    assert.ok(new URL(consent.location!).searchParams.get('code'));

    const other = new Browser();
    const denied = await authorizationRequest(third, { scope: 'openid profile' });
    const stopAt = stopAtRedirectUri(third);
    let page = await other.follow(denied.url, { stopAt });
    page = await other.submitForm(page.body, page.url, { username: 'wangwu', password: 'tongban-demo' }, { stopAt });
    assert.match(page.body, /授权确认/);
    page = await other.submitForm(page.body, page.url, { decision: 'deny' }, { stopAt });
    assert.equal(new URL(page.location!).searchParams.get('error'), 'access_denied');
  });

  it('keeps personal data out of the logs', () => {
    const national = federation.simulator.claimsOf('zhangsan');
    const text = JSON.stringify(federation.logger.lines);
    assert.ok(federation.logger.lines.length > 0);
    for (const secret of [national.name, national.cert_no, national.phone_number]) {
      assert.ok(!text.includes(String(secret)), 'a log line carries personal data');
    }
  });

  describe('bad input from clients', () => {
    it('unknown client: a page, no redirect', async () => {
      const url = new URL(rp.config.serverMetadata().authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: 'nobody', response_type: 'code', redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString();
      const page = await new Browser().get(url);
      assert.equal(page.status, 400);
      assert.equal(page.location, undefined);
      assert.match(page.body, /invalid_client/);
      assert.doesNotMatch(page.body, /at \w+ \(/, 'no stack trace');
    });

    it('unregistered redirect_uri: a page, never a redirect to it', async () => {
      const attempt = await authorizationRequest(rp, { redirect_uri: 'http://127.0.0.1:9/evil' });
      const page = await new Browser().get(attempt.url);
      assert.equal(page.status, 400);
      assert.equal(page.location, undefined);
      assert.match(page.body, /invalid_redirect_uri/);
    });

    it('missing PKCE: invalid_request back to the client', async () => {
      const url = new URL(rp.config.serverMetadata().authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: portal.client_id, response_type: 'code', redirect_uri: rp.redirectUri, scope: 'openid', state: 's' }).toString();
      const page = await new Browser().get(url);
      const back = new URL(page.location!);
      assert.equal(back.searchParams.get('error'), 'invalid_request');
      assert.equal(back.searchParams.get('state'), 's');
    });

    it('replayed code and wrong PKCE verifier: invalid_grant', async () => {
      const browser = new Browser();
      const attempt = await authorizationRequest(rp);
      const page = await browse(browser, rp, attempt, 'zhangsan');
      const callback = new URL(page.location!);
      // Wrong verifier first: refused, and the code cannot be used afterwards either.
      await assert.rejects(
        oidc.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: attempt.state, expectedNonce: attempt.nonce }),
        (error: { error?: string }) => error.error === 'invalid_grant',
      );
      const second = await authorizationRequest(rp);
      const secondPage = await browse(browser, rp, second, 'zhangsan');
      const secondCallback = new URL(secondPage.location!);
      await oidc.authorizationCodeGrant(rp.config, secondCallback, { pkceCodeVerifier: second.codeVerifier, expectedState: second.state, expectedNonce: second.nonce });
      await assert.rejects(
        oidc.authorizationCodeGrant(rp.config, secondCallback, { pkceCodeVerifier: second.codeVerifier, expectedState: second.state, expectedNonce: second.nonce }),
        (error: { error?: string }) => error.error === 'invalid_grant',
      );
    });
  });

  describe('bad input at the national callback', () => {
    it('missing or forged state: a 400 page with a stable code', async () => {
      const browser = new Browser();
      for (const query of ['', '?state=forged&code=abc']) {
        const page = await browser.get(`${federation.issuer}/national/callback${query}`);
        assert.equal(page.status, 400);
        assert.match(page.body, /upstream_state_mismatch/);
        assert.match(page.body, /国家政务服务平台/);
      }
    });

    it('a replayed callback is refused', async () => {
      const browser = new Browser();
      const attempt = await authorizationRequest(rp);
      let callbackUrl: string | undefined;
      const stopAt = (url: URL) => {
        if (url.pathname === '/national/callback' && !callbackUrl) {
          callbackUrl = url.href;
        }
        return url.href.startsWith(rp.redirectUri);
      };
      let page = await browser.follow(attempt.url, { stopAt });
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
      assert.ok(page.location?.startsWith(rp.redirectUri));
      const replay = await browser.get(callbackUrl!);
      assert.equal(replay.status, 400);
      assert.match(replay.body, /upstream_state_mismatch/);
    });

    for (const [mode, code] of [
      ['wrong-signature', 'upstream_token_invalid'],
      ['wrong-audience', 'upstream_token_invalid'],
      ['wrong-issuer', 'upstream_token_invalid'],
      ['wrong-nonce', 'upstream_token_invalid'],
      ['expired-id-token', 'upstream_token_invalid'],
      ['alg-none', 'upstream_token_invalid'],
      ['hs256', 'upstream_token_invalid'],
      ['bad-id-number', 'identity_invalid'],
      ['bad-credit-code', 'identity_invalid'],
      ['error-callback', 'upstream_denied'],
    ] as const) {
      it(`national misbehaviour "${mode}": refused with ${code}, ${mode === 'error-callback' ? 'straight back to the app' : 'a way back'}, nothing issued`, async () => {
        await federation.simulator.misbehave(mode);
        const browser = new Browser();
        const attempt = await authorizationRequest(rp);
        const page = await browse(browser, rp, attempt, mode === 'bad-credit-code' ? 'lisi' : 'zhangsan');
        if (mode === 'error-callback') {
          // A national access_denied (cancel or refusal) goes straight back to the app: one page, the app's.
          const result = new URL(page.location!);
          assert.equal(result.searchParams.get('error'), 'access_denied');
          assert.equal(result.searchParams.get('code'), null);
          assert.ok(federation.logger.lines.some((line) => line.code === code));
          return;
        }
        assert.ok(page.status >= 400 && page.status < 600, `status ${page.status}`);
        assert.match(page.body, new RegExp(code));
        assert.doesNotMatch(page.body, /at \w+ \(/);
        const back = /href="([^"]+)"/.exec(page.body.slice(page.body.indexOf('<main>')))?.[1];
        assert.ok(back, 'the page offers a way back');
        const returned = await browser.follow(back.replaceAll('&amp;', '&'), { stopAt: stopAtRedirectUri(rp) });
        const result = new URL(returned.location!);
        assert.equal(result.searchParams.get('error'), 'access_denied');
        assert.equal(result.searchParams.get('code'), null);
        assert.ok(federation.logger.lines.some((line) => line.code === code));
      });
    }

    /** Logs in at the national platform and stops just before the browser returns to the broker. */
    async function atNationalCallback(browser: Browser): Promise<string> {
      const attempt = await authorizationRequest(rp, { prompt: 'login' });
      const stopAt = (url: URL) => url.pathname === '/national/callback';
      let page = await browser.follow(attempt.url, { stopAt });
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
      assert.ok(page.location?.includes('/national/callback'));
      return page.location!;
    }

    it('national platform down at the token call: a clear page, quickly', async () => {
      const browser = new Browser();
      const callback = await atNationalCallback(browser);
      await federation.simulator.misbehave('down');
      const started = Date.now();
      const page = await browser.follow(callback, { stopAt: stopAtRedirectUri(rp) });
      assert.equal(page.status, 502);
      assert.match(page.body, /upstream_unavailable/);
      assert.match(page.body, /暂时无法连接国家政务服务平台/);
      assert.ok(Date.now() - started < 2000);
    });

    it('national platform slow: bounded by the configured time-out', async () => {
      const browser = new Browser();
      const callback = await atNationalCallback(browser);
      await federation.simulator.misbehave('slow', { delayMs: 4000 });
      const started = Date.now();
      const page = await browser.follow(callback, { stopAt: stopAtRedirectUri(rp) });
      assert.equal(page.status, 504);
      assert.match(page.body, /upstream_timeout/);
      assert.ok(Date.now() - started < 3500, 'the 2 s time-out bounds the wait');
    });
  });
});
