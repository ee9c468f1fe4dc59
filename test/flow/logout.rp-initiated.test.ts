/**
 * Single logout end to end: RP-initiated logout at any portal, the person's "sign out everywhere",
 * and back-channel logout from the national platform, each ending the broker session, the national
 * session and telling every app. Every logout token is verified with jose as an app would.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createLegacyCredentials } from '../../broker/legacy/credentials.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, brokerClient, browse, login, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { atPortal, backchannelEvent, logoutThrough, portal, receiver, until, type Receiver, type SignedIn } from './logout/support.ts';

describe('single logout (end to end)', function () {
  this.timeout(30_000);

  describe('RP-initiated, the account page and national back-channel logout', () => {
    let federation: Federation;
    let receivers: Record<'shanghai' | 'zhejiang' | 'jiangsu', Receiver>;
    const rps: Record<string, RelyingParty> = {};
    let clients: ConfiguredClient[];
    let clock = 0;
    let jwks: ReturnType<typeof createRemoteJWKSet>;

    before(async () => {
      receivers = { shanghai: await receiver(), zhejiang: await receiver(), jiangsu: await receiver() };
      clients = [
        portal('shanghai', '310000', receivers.shanghai),
        portal('zhejiang', '330100', receivers.zhejiang),
        portal('jiangsu', '320500', receivers.jiangsu),
        portal('anhui', '340100'), // registered no back-channel endpoint
      ];
      federation = await startFederation({
        clients,
        simulatorNow: () => Date.now() + clock,
        overrides: { logout: { firstRetryDelayMs: 100, maxRetryDelayMs: 400, pollIntervalMs: 50, deliveryTimeoutMs: 1000 } },
      });
      for (const c of clients) rps[c.client_id] = await relyingParty(federation.issuer, { clientId: c.client_id, clientSecret: c.client_secret!, redirectUri: c.redirect_uris[0]! });
      jwks = createRemoteJWKSet(new URL(`${federation.issuer}/jwks`));
    });
    after(async () => {
      await federation?.stop();
      for (const r of Object.values(receivers ?? {})) await r.down();
    });
    beforeEach(() => {
      for (const r of Object.values(receivers)) r.tokens.length = 0;
    });

    /** One national login at Shanghai, then single sign-on at every other portal. */
    async function signInEverywhere(username = 'zhangsan', browser = new Browser()): Promise<SignedIn> {
      const at: SignedIn['at'] = {};
      for (const c of clients) {
        const { tokens } = await login(browser, rps[c.client_id]!, c.client_id === 'shanghai' ? username : undefined);
        at[c.client_id] = { claims: tokens.claims()!, idToken: tokens.id_token!, accessToken: tokens.access_token };
      }
      return { browser, at };
    }

    async function silentCheck(browser: Browser, clientId = 'shanghai'): Promise<URL> {
      const rp = rps[clientId]!;
      const attempt = await authorizationRequest(rp, { prompt: 'none' });
      const page = await browser.follow(attempt.url, { stopAt: stopAtRedirectUri(rp) });
      return new URL(page.location!);
    }

    /** Verifies a logout token as an app would, and that it names the app's own session. */
    async function verifyLogoutToken(token: string, clientId: string, session: JWTPayload): Promise<JWTPayload> {
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: federation.issuer, audience: clientId, typ: 'logout+jwt', requiredClaims: ['iat', 'exp', 'jti'] });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.deepEqual(payload.events, { [backchannelEvent]: {} });
      assert.equal('nonce' in payload, false);
      assert.equal(payload.sub, session.sub, 'the pairwise sub of that app');
      assert.equal(payload.sid, session.sid, 'the sid that app was given');
      return payload;
    }

    async function receivedByAll(signedIn: SignedIn): Promise<void> {
      for (const [name, r] of Object.entries(receivers)) {
        await until(`a logout token at ${name}`, () => r.tokens.length > 0);
        assert.equal(r.tokens.length, 1, `exactly one token at ${name}`);
        await verifyLogoutToken(r.tokens[0]!, name, signedIn.at[name]!.claims);
      }
    }

    it('logout at the Zhejiang portal ends the broker and national sessions and tells every app', async () => {
      const signedIn = await signInEverywhere();
      assert.equal(federation.simulator.sessionsOf('zhangsan').length, 1);
      const zj = signedIn.at.zhejiang!;
      const end = oidc.buildEndSessionUrl(rps.zhejiang!.config, { id_token_hint: zj.idToken, post_logout_redirect_uri: 'http://127.0.0.1:9/zhejiang/logged-out', state: 'bye-zj' });
      const { final, seen } = await logoutThrough(signedIn.browser, end);

      const back = new URL(final.location!);
      assert.equal(back.origin + back.pathname, 'http://127.0.0.1:9/zhejiang/logged-out');
      assert.equal(back.searchParams.get('state'), 'bye-zj');
      const national = new URL(federation.simulator.url).origin;
      const nationalEnd = seen.map((u) => new URL(u)).find((u) => u.origin === national && u.pathname === '/session/end');
      assert.ok(nationalEnd, 'the browser went through the national end-session endpoint');
      assert.equal(nationalEnd.searchParams.get('post_logout_redirect_uri'), `${federation.issuer}/national/logged-out`);
      assert.equal(nationalEnd.searchParams.get('client_id'), brokerClient.clientId);
      // The national ID token carries the person's name and ID number: it never goes into a URL.
      assert.equal(nationalEnd.searchParams.get('id_token_hint'), null);
      assert.ok(seen.some((u) => u.startsWith(`${federation.issuer}/national/logged-out?`)));

      assert.deepEqual(federation.simulator.sessionsOf('zhangsan'), [], 'the national session has ended');
      assert.equal((await silentCheck(signedIn.browser)).searchParams.get('error'), 'login_required');
      await receivedByAll(signedIn);
      // The grants are gone with the session.
      const introspection = await oidc.tokenIntrospection(rps.shanghai!.config, signedIn.at.shanghai!.accessToken);
      assert.equal(introspection.active, false);
      // The next visit to a portal shows the national login form again.
      const again = await browse(signedIn.browser, rps.jiangsu!, await authorizationRequest(rps.jiangsu!));
      assert.match(again.body, /name="password"/);
    });

    it('logout without id_token_hint (client_id) and with no parameters at all', async () => {
      const first = await signInEverywhere();
      const end = oidc.buildEndSessionUrl(rps.jiangsu!.config, { client_id: 'jiangsu', post_logout_redirect_uri: 'http://127.0.0.1:9/jiangsu/logged-out', state: 's-2' });
      const { final } = await logoutThrough(first.browser, end);
      const back = new URL(final.location!);
      assert.equal(back.pathname, '/jiangsu/logged-out');
      assert.equal(back.searchParams.get('state'), 's-2');
      await receivedByAll(first);
      assert.deepEqual(federation.simulator.sessionsOf('zhangsan'), []);

      for (const r of Object.values(receivers)) r.tokens.length = 0;
      const second = await signInEverywhere();
      const { final: done } = await logoutThrough(second.browser, `${federation.issuer}/session/end`);
      assert.equal(done.status, 200);
      assert.equal(new URL(done.url).pathname, '/session/end/success');
      assert.match(done.body, /已退出登录/);
      await receivedByAll(second);
      assert.equal((await silentCheck(second.browser)).searchParams.get('error'), 'login_required');
    });

    it('logout with no broker session left still ends the national session', async () => {
      const signedIn = await signInEverywhere();
      signedIn.browser.jar.delete('tongban_session');
      signedIn.browser.jar.delete('tongban_session.sig');
      assert.equal(federation.simulator.sessionsOf('zhangsan').length, 1);
      const end = oidc.buildEndSessionUrl(rps.zhejiang!.config, { client_id: 'zhejiang', post_logout_redirect_uri: 'http://127.0.0.1:9/zhejiang/logged-out', state: 's-3' });
      const { final } = await logoutThrough(signedIn.browser, end);
      assert.equal(new URL(final.location!).searchParams.get('state'), 's-3');
      assert.deepEqual(federation.simulator.sessionsOf('zhangsan'), []);
      // The broker session itself is ended by the national platform's back-channel logout.
      await receivedByAll(signedIn);
    });

    it('a return from the national platform that belongs to no logout gets a page, once', async () => {
      for (const query of ['', '?state=unknown', `?state=${'x'.repeat(300)}`]) {
        const page = await new Browser().get(`${federation.issuer}/national/logged-out${query}`);
        assert.equal(page.status, 400);
        assert.match(page.body, /logout_return_unknown/);
        assert.match(page.body, /退出登录已完成/);
      }
      const signedIn = await signInEverywhere();
      let returnUrl: string | undefined;
      const stopAt = (url: URL) => {
        if (url.pathname === '/national/logged-out') returnUrl ??= url.href;
        return atPortal(url);
      };
      let page = await signedIn.browser.follow(`${federation.issuer}/session/end`, { stopAt });
      while (!page.location && /<form/.test(page.body)) page = await signedIn.browser.submitForm(page.body, page.url, { logout: 'yes' }, { stopAt });
      assert.ok(returnUrl);
      const replay = await signedIn.browser.get(returnUrl);
      assert.equal(replay.status, 400, 'used once');
      assert.match(replay.body, /logout_return_unknown/);
    });

    it('refuses logout requests with another client\'s id_token_hint or a foreign post_logout_redirect_uri, ending nothing', async () => {
      const signedIn = await signInEverywhere();
      const sh = signedIn.at.shanghai!;
      const refused = async (params: Record<string, string>, error: string) => {
        const url = new URL(`${federation.issuer}/session/end`);
        url.search = new URLSearchParams(params).toString();
        const page = await signedIn.browser.follow(url, { stopAt: atPortal });
        assert.equal(page.status, 400, JSON.stringify(params));
        assert.equal(page.location, undefined, 'never redirected');
        assert.match(page.body, new RegExp(error));
        assert.doesNotMatch(page.body, /at \w+ \(/);
      };
      await refused({ id_token_hint: sh.idToken, client_id: 'zhejiang' }, 'invalid_request');
      await refused({ id_token_hint: sh.idToken, post_logout_redirect_uri: 'http://127.0.0.1:9/zhejiang/logged-out' }, 'invalid_request');
      await refused({ client_id: 'shanghai', post_logout_redirect_uri: 'https://evil.example/' }, 'invalid_request');
      await refused({ client_id: 'nobody' }, 'invalid_client');
      // An ID token of the right shape signed by someone else.
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({ sid: sh.claims.sid }).setProtectedHeader({ alg: 'ES256', kid: decodeProtectedHeader(sh.idToken).kid! })
        .setIssuer(federation.issuer).setAudience('shanghai').setSubject(sh.claims.sub!).setIssuedAt().setExpirationTime('5m').sign(privateKey);
      await refused({ id_token_hint: forged }, 'invalid_request');

      assert.ok((await silentCheck(signedIn.browser)).searchParams.get('code'), 'the session is still alive');
      assert.equal(federation.simulator.sessionsOf('zhangsan').length, 1);
      await sleep(200);
      for (const r of Object.values(receivers)) assert.equal(r.tokens.length, 0);
      await logoutThrough(signedIn.browser, `${federation.issuer}/session/end`);
    });

    it('the account page shows the provinces and apps reached and signs out everywhere', async () => {
      const anonymous = await new Browser().get(`${federation.issuer}/account`);
      assert.equal(anonymous.status, 200);
      assert.match(anonymous.body, /id="signed-out"/);

      const signedIn = await signInEverywhere();
      const account = await signedIn.browser.get(`${federation.issuer}/account`);
      assert.equal(account.status, 200);
      assert.equal(account.headers.get('cache-control'), 'no-store');
      for (const [code, name] of [['310000', '上海'], ['330000', '浙江'], ['320000', '江苏'], ['340000', '安徽']]) {
        assert.match(account.body, new RegExp(`data-province="${code}"><strong>${name}</strong>`));
      }
      for (const c of clients) assert.match(account.body, new RegExp(`data-client="${c.client_id}"`));
      assert.match(account.body, /高级实名/);
      assert.match(account.body, /在所有地方退出/);
      assert.doesNotMatch(account.body, /张三/, 'no personal data needed on the page');

      const { final } = await logoutThrough(signedIn.browser, '', { page: account, id: 'logout-everywhere' });
      assert.equal(new URL(final.url).pathname, '/session/end/success');
      await receivedByAll(signedIn);
      assert.deepEqual(federation.simulator.sessionsOf('zhangsan'), []);
      const after = await signedIn.browser.get(`${federation.issuer}/account`);
      assert.match(after.body, /id="signed-out"/);
    });

    it('a back-channel logout from the national platform ends the broker session and fans out', async () => {
      const signedIn = await signInEverywhere();
      const other = await signInEverywhere('lisi');
      // A legacy bridge token issued from this broker session ends with it.
      const nationalSid = federation.simulator.sessionsOf('zhangsan')[0]!.sids[brokerClient.clientId]!;
      const [sessionUid] = await federation.broker.singleLogout.registry.sessionsOfNationalSid(nationalSid);
      const record = await federation.broker.singleLogout.registry.loginOf(sessionUid!);
      assert.ok(record, 'the national login is kept with the broker session');
      const legacy = createLegacyCredentials(federation.store, { ticketTtlSeconds: 60, tokenTtlSeconds: 60 });
      const legacyToken = await legacy.issueToken({ province: 'zhejiang', serviceCode: 'svc', accountId: record.accountId, sessionUid: sessionUid!, scope: 'profile' });
      assert.ok(await legacy.findToken(legacyToken, 'zhejiang', 'svc'));

      const deliveries = await federation.simulator.backchannelLogout('zhangsan');
      assert.deepEqual(deliveries.map((d) => d.status), [200]);
      assert.equal((await silentCheck(signedIn.browser)).searchParams.get('error'), 'login_required');
      await receivedByAll(signedIn);
      assert.equal(await legacy.findToken(legacyToken, 'zhejiang', 'svc'), undefined, 'the legacy token is revoked');
      assert.equal(await federation.broker.singleLogout.registry.loginOf(sessionUid!), undefined);
      assert.ok((await silentCheck(other.browser)).searchParams.get('code'), 'another person is not signed out');
      assert.ok(federation.logger.lines.some((l) => l.event === 'national_backchannel_logout' && l.by === 'sid' && l.sessions === 1));
    });

    it('a national logout token with only sub ends every broker session of the person', async () => {
      const one = await signInEverywhere();
      const two = await signInEverywhere();
      const token = await federation.simulator.logoutToken('zhangsan', brokerClient.clientId);
      const response = await fetch(`${federation.issuer}/national/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      for (const b of [one.browser, two.browser]) assert.equal((await silentCheck(b)).searchParams.get('error'), 'login_required');
      await until('two tokens at every app', () => Object.values(receivers).every((r) => r.tokens.length === 2));
    });

    it('refuses forged, unsigned, replayed, expired and misdirected national logout tokens with 400, ending nothing', async () => {
      const signedIn = await signInEverywhere();
      const sid = federation.simulator.sessionsOf('zhangsan')[0]!.sids[brokerClient.clientId]!;
      const post = (body: URLSearchParams | string, type = 'application/x-www-form-urlencoded') =>
        fetch(`${federation.issuer}/national/backchannel-logout`, { method: 'POST', headers: { 'content-type': type }, body });
      const refused = async (label: string, response: Response) => {
        assert.equal(response.status, 400, label);
        assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'the logout token is missing or invalid' }, label);
      };

      const genuine = await federation.simulator.logoutToken('zhangsan', brokerClient.clientId, sid);
      const [h, p] = genuine.split('.');
      const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string };
      const { privateKey } = await generateKeyPair('RS256');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as JWTPayload;
      const forged = await new SignJWT({ ...claims, jti: 'forged-1' }).setProtectedHeader({ alg: 'RS256', kid: header.kid, typ: 'logout+jwt' }).sign(privateKey);
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, jti: 'unsigned-1' })).toString('base64url')}.`;
      const hs256 = await new SignJWT({ ...claims, jti: 'hs-1' }).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new TextEncoder().encode(brokerClient.clientSecret));
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sid: 'another' })).toString('base64url')}.${genuine.split('.')[2]}`;
      clock = -3600_000;
      const expired = await federation.simulator.logoutToken('zhangsan', brokerClient.clientId, sid);
      clock = 0;

      await refused('missing', await post(new URLSearchParams()));
      await refused('not a JWT', await post(new URLSearchParams({ logout_token: 'not-a-jwt' })));
      await refused('JSON body', await post(JSON.stringify({ logout_token: genuine }), 'application/json'));
      await refused('forged', await post(new URLSearchParams({ logout_token: forged })));
      await refused('unsigned', await post(new URLSearchParams({ logout_token: unsigned })));
      await refused('HS256', await post(new URLSearchParams({ logout_token: hs256 })));
      await refused('tampered', await post(new URLSearchParams({ logout_token: tampered })));
      await refused('expired', await post(new URLSearchParams({ logout_token: expired })));
      // Replay: a valid token for a person with no broker session, sent twice.
      const nobody = await federation.simulator.logoutToken('wangwu', brokerClient.clientId);
      assert.equal((await post(new URLSearchParams({ logout_token: nobody }))).status, 200);
      await refused('replayed', await post(new URLSearchParams({ logout_token: nobody })));
      // Another person's token naming this session's sid ends nothing.
      const misdirected = await federation.simulator.logoutToken('lisi', brokerClient.clientId, sid);
      assert.equal((await post(new URLSearchParams({ logout_token: misdirected }))).status, 200);

      assert.ok((await silentCheck(signedIn.browser)).searchParams.get('code'), 'the session is still alive');
      await sleep(200);
      for (const r of Object.values(receivers)) assert.equal(r.tokens.length, 0);
      const reasons = federation.logger.lines.filter((l) => l.event === 'national_logout_token_rejected').map((l) => l.reason);
      for (const reason of ['missing', 'form', 'signature', 'expired', 'replayed']) assert.ok(reasons.includes(reason), `logged ${reason}: ${reasons.join(',')}`);
      await logoutThrough(signedIn.browser, `${federation.issuer}/session/end`);
    });

    it('keeps personal data and tokens out of the logs', () => {
      const national = federation.simulator.claimsOf('zhangsan');
      const text = JSON.stringify(federation.logger.lines);
      for (const secret of [national.name, national.cert_no, national.phone_number, federation.simulator.subjectOf('zhangsan')]) {
        assert.ok(!text.includes(String(secret)), 'a log line carries personal data');
      }
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{20,}\./, 'no token in the logs');
    });
  });
});
