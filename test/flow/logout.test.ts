/**
 * Single logout end to end: RP-initiated logout at any portal, the person's "sign out everywhere",
 * and back-channel logout from the national platform, each ending the broker session, the national
 * session and telling every app through the durable delivery queue. Receivers are small HTTP
 * servers that keep what they are sent; every logout token is verified with jose as an app would.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { createNationalLogoutTokenVerifier, LogoutTokenRejected } from '../../broker/logout/national-token.ts';
import { createLegacyCredentials } from '../../broker/legacy/credentials.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, brokerClient, browse, freePort, login, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';

const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

/** An app's back-channel logout endpoint: answers `status`, keeps every logout token it is sent. */
class Receiver {
  readonly tokens: string[] = [];
  status = 200;
  readonly port: number;
  #server: Server | undefined;
  constructor(port: number) {
    this.port = port;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/backchannel-logout`;
  }
  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
        if (token && this.status === 200) this.tokens.push(token);
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
  }
}

async function receiver(): Promise<Receiver> {
  const r = new Receiver(await freePort());
  await r.up();
  return r;
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const portal = (id: string, city: string, backchannel?: Receiver): ConfiguredClient => ({
  client_id: id,
  client_secret: `${id}-secret`,
  client_name: `${id} portal`,
  city,
  redirect_uris: [`http://127.0.0.1:9/${id}/callback`],
  post_logout_redirect_uris: [`http://127.0.0.1:9/${id}/logged-out`],
  scope: 'openid profile',
  first_party: true,
  ...(backchannel ? { backchannel_logout_uri: backchannel.url } : {}),
});

const atPortal = (url: URL) => url.origin === 'http://127.0.0.1:9';

/** Runs a logout in the browser: confirms at the broker and at the national platform. */
async function logoutThrough(browser: Browser, start: string | URL, form?: { page: Page; id: string }): Promise<{ final: Page; seen: string[] }> {
  const seen: string[] = [];
  let page = form
    ? await browser.submitForm(form.page.body, form.page.url, { logout: 'yes' }, { form: form.id, stopAt: atPortal })
    : await browser.follow(start, { stopAt: atPortal });
  seen.push(...page.history);
  for (let step = 0; step < 4 && !page.location && page.status === 200 && /<form/i.test(page.body); step += 1) {
    page = await browser.submitForm(page.body, page.url, { logout: 'yes' }, { stopAt: atPortal });
    seen.push(...page.history);
  }
  return { final: page, seen };
}

interface SignedIn {
  readonly browser: Browser;
  /** ID token claims and tokens per client id. */
  readonly at: Record<string, { claims: JWTPayload; idToken: string; accessToken: string }>;
}

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

  describe('delivery queue: retries, restarts, several nodes, giving up', () => {
    let federation: Federation;
    let flaky: Receiver;
    let steady: Receiver;
    const rps: Record<string, RelyingParty> = {};
    const extraBrokers: Broker[] = [];

    before(async () => {
      flaky = await receiver();
      steady = await receiver();
      const clients = [portal('shanghai', '310000', flaky), portal('zhejiang', '330100', steady)];
      // Redis: the queue lives in a store every node shares and that outlives a broker.
      federation = await startFederation({
        clients,
        store: 'redis://127.0.0.1:6379',
        overrides: { logout: { firstRetryDelayMs: 100, maxRetryDelayMs: 300, pollIntervalMs: 50, deliveryTimeoutMs: 500, giveUpAfterSeconds: 3 } },
      });
      for (const c of clients) rps[c.client_id] = await relyingParty(federation.issuer, { clientId: c.client_id, clientSecret: c.client_secret!, redirectUri: c.redirect_uris[0]! });
    });
    after(async () => {
      for (const b of extraBrokers) await b.stop();
      await federation?.stop();
      await flaky?.down();
      await steady?.down();
    });
    beforeEach(async () => {
      flaky.tokens.length = 0;
      steady.tokens.length = 0;
      flaky.status = 200;
      await flaky.up();
    });

    async function signInAndLogOut(): Promise<Record<string, JWTPayload>> {
      const browser = new Browser();
      const sessions: Record<string, JWTPayload> = {};
      sessions.shanghai = (await login(browser, rps.shanghai!, 'zhangsan')).tokens.claims()!;
      sessions.zhejiang = (await login(browser, rps.zhejiang!, undefined)).tokens.claims()!;
      const { final } = await logoutThrough(browser, `${federation.issuer}/session/end`);
      assert.equal(new URL(final.url).pathname, '/session/end/success');
      return sessions;
    }

    it('a receiver that is down during logout gets its token after it comes back, across a broker restart', async () => {
      await flaky.down();
      const sessions = await signInAndLogOut();
      await until('the token at the receiver that is up', () => steady.tokens.length === 1);
      const pending = await until('a failed attempt', async () => {
        const list = await federation.broker.singleLogout.queue.pending();
        return list.length === 1 && list[0]!.attempts >= 1 ? list : undefined;
      });
      assert.equal(pending[0]!.clientId, 'shanghai');
      assert.equal(pending[0]!.lastFailure, 'unreachable');

      // The broker goes away; another one on the same store and address takes over.
      await federation.broker.stop();
      const replacement = await createBroker(federation.broker.config, { logger: federation.logger, store: federation.store });
      extraBrokers.push(replacement);
      await replacement.start();
      await flaky.up();
      await until('the token after the receiver came back', () => flaky.tokens.length === 1);
      const jwks = createRemoteJWKSet(new URL(`${federation.issuer}/jwks`));
      const { payload } = await jwtVerify(flaky.tokens[0]!, jwks, { issuer: federation.issuer, audience: 'shanghai', typ: 'logout+jwt' });
      assert.equal(payload.sid, sessions.shanghai!.sid);
      assert.equal(payload.sub, sessions.shanghai!.sub);
      assert.deepEqual(await replacement.singleLogout.queue.pending(), []);
      assert.deepEqual(await replacement.singleLogout.queue.givenUp(), []);
    });

    it('several nodes polling one store send each token once', async () => {
      // Two more nodes without a listener: their workers poll the same store.
      for (let i = 0; i < 2; i += 1) {
        const node = await createBroker(federation.broker.config, { logger: federation.logger, store: federation.store });
        extraBrokers.push(node);
      }
      flaky.status = 503; // every first attempt fails, so retries also race between the nodes
      const logouts = [signInAndLogOut(), signInAndLogOut(), signInAndLogOut()];
      await sleep(300);
      flaky.status = 200;
      const sessions = await Promise.all(logouts);
      await until('three tokens', () => flaky.tokens.length >= 3 && steady.tokens.length >= 3);
      await sleep(500); // a duplicate would arrive within a few poll intervals
      assert.equal(flaky.tokens.length, 3);
      assert.equal(steady.tokens.length, 3);
      const sids = new Set(flaky.tokens.map((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sid as string));
      assert.deepEqual(sids, new Set(sessions.map((s) => s.shanghai!.sid as string)));
    });

    it('a receiver that stays down is given up after the configured time, and that is recorded', async () => {
      await flaky.down();
      const started = Date.now();
      await signInAndLogOut();
      const node = extraBrokers[0]!;
      const [record] = await until('the give-up record', async () => {
        const list = await node.singleLogout.queue.givenUp();
        return list.length > 0 ? list : undefined;
      }, 8000);
      assert.equal(record!.clientId, 'shanghai');
      assert.equal(record!.lastFailure, 'unreachable');
      assert.ok(record!.attempts >= 3, `attempts ${record!.attempts}`);
      const after = record!.gaveUpAt - record!.createdAt;
      assert.ok(after >= 3000 && after < 5000, `given up after ${after} ms`);
      assert.ok(record!.createdAt >= started);
      assert.deepEqual(await node.singleLogout.queue.pending(), []);
      const line = federation.logger.lines.find((l) => l.event === 'backchannel_logout_given_up');
      assert.ok(line, 'the give-up is logged');
      assert.equal(line.client, 'shanghai');
      assert.equal(line.code, 'unreachable');
      assert.deepEqual(Object.keys(line).filter((k) => /sub|sid|account|token/i.test(k)), [], 'nothing that identifies the person');
      await flaky.up();
      await sleep(300);
      assert.equal(flaky.tokens.length, 0, 'nothing is sent after giving up');
    });
  });

  describe('configuration of the delivery queue', () => {
    it('takes the logout settings and TONGBAN_LOGOUT_GIVE_UP_AFTER_SECONDS, and reports bad values', () => {
      assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development' } }).logout.giveUpAfterSeconds, 86_400);
      assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_LOGOUT_GIVE_UP_AFTER_SECONDS: '600' } }).logout.giveUpAfterSeconds, 600);
      assert.throws(
        () => loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { logout: { giveUpAfterSeconds: 0, firstRetryDelayMs: 5000, maxRetryDelayMs: 1000, pollIntervalMs: 1.5 } } }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          for (const key of ['logout.giveUpAfterSeconds', 'logout.maxRetryDelayMs', 'logout.pollIntervalMs']) {
            assert.ok(error.problems.some((p) => p.startsWith(key)), `${key}: ${error.problems.join('; ')}`);
          }
          return true;
        },
      );
    });
  });

  describe('national logout token validation', () => {
    const issuer = 'https://national.example.gov.cn';
    const audience = 'tongban-broker';
    let key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
    let verify: ReturnType<typeof createNationalLogoutTokenVerifier>;

    before(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      key = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
      verify = createNationalLogoutTokenVerifier({ issuer, clientId: audience, store: createMemoryStore(), timeoutMs: 1000, keys: createLocalJWKSet({ keys: [jwk] }) });
    });

    const token = (claims: Record<string, unknown>, header: Record<string, unknown> = {}, times: { iat?: number; exp?: number } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ events: { [backchannelEvent]: {} }, sid: 's1', jti: `j-${Math.random()}`, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt', ...header })
        .setIssuer(String(claims.iss ?? issuer)).setAudience(String(claims.aud ?? audience)).setSubject('national-sub')
        .setIssuedAt(times.iat ?? now).setExpirationTime(times.exp ?? now + 120);
      return jwt.sign(key);
    };
    const rejectedFor = async (reason: string | RegExp, jwt: Promise<string> | string) => {
      await assert.rejects(verify(await jwt), (error: unknown) => {
        assert.ok(error instanceof LogoutTokenRejected, String(error));
        if (typeof reason === 'string') assert.equal(error.reason, reason);
        else assert.match(error.reason, reason);
        return true;
      });
    };

    it('accepts a well-formed token once', async () => {
      const jwt = await token({});
      assert.deepEqual(await verify(jwt), { sub: 'national-sub', sid: 's1' });
      await rejectedFor('replayed', jwt);
    });

    it('refuses every malformed or misdirected token with a stable reason', async () => {
      const now = Math.floor(Date.now() / 1000);
      await rejectedFor('nonce', token({ nonce: 'n' }));
      await rejectedFor('events', token({ events: { 'http://schemas.openid.net/event/other': {} } }));
      await rejectedFor('events', token({ events: { [backchannelEvent]: 'yes' } }));
      await rejectedFor('claim_aud', token({ aud: 'someone-else' }));
      await rejectedFor('claim_iss', token({ iss: 'https://impostor.example' }));
      await rejectedFor('typ', token({}, { typ: 'JWT' }));
      await rejectedFor('expired', token({}, {}, { iat: now - 300, exp: now - 100 }));
      await rejectedFor('claim_iat', token({}, {}, { iat: now + 600, exp: now + 700 }));
      await rejectedFor('expired', token({}, {}, { iat: now - 3600, exp: now + 60 }));
      await rejectedFor('claim_jti', token({ jti: undefined }));
      await rejectedFor('sid', token({ sid: 42 }));
      const noSubject = new SignJWT({ events: { [backchannelEvent]: {} }, jti: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt' })
        .setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('2m').sign(key);
      await rejectedFor('no_sub_or_sid', noSubject);
      await rejectedFor('missing', '');
    });
  });
});
