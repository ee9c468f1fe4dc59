/**
 * The national-platform simulator, driven the way the broker drives it: openid-client as the
 * relying party (discovery, PKCE S256, state, nonce) and a cookie-jar browser on the real pages.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { creditCodeCheckChar, organisationCodeCheckChar, parseCreditCode, parseResidentId, residentIdCheckChar } from '../../broker/identity/identifiers.ts';
import { currentRepresentations } from '../../broker/identity/model.ts';
import { fromNational } from '../../broker/national/claims.ts';
import {
  createNationalSimulator,
  defaultBrokerClient,
  defaultBrokerClientId,
  demoAccounts,
  demoCompanies,
  demoPassword,
  requestedLevel,
  type NationalSimulator,
} from '../../scripts/dev/simulator/index.ts';
import { Browser, CookieJar, parseForm, type Page } from '../support/browser.ts';

const clientId = 'tongban-broker';
const clientSecret = 'simulator-test-secret-0123456789abcdef';
const allScopes = 'openid profile phone id_number entities';

interface Received {
  readonly path: string;
  readonly body: URLSearchParams;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('national-platform simulator', function () {
  let sim: NationalSimulator;
  let config: oidc.Configuration;
  let receiver: Server;
  let base: string;
  let redirectUri: string;
  let postLogoutUri: string;
  const received: Received[] = [];

  before(async function () {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
        res.statusCode = 200;
        res.end();
      });
    });
    base = `http://127.0.0.1:${await listen(receiver)}`;
    redirectUri = `${base}/national/callback`;
    postLogoutUri = `${base}/national/logged-out`;
    sim = createNationalSimulator({
      issuer: 'http://127.0.0.1:0',
      port: 0,
      clients: [{
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [postLogoutUri],
        backchannel_logout_uri: `${base}/national/backchannel-logout`,
      }],
    });
    await sim.start();
    // openid-client skips the ID token signature by default (TLS vouches for the token endpoint);
    // the broker checks it, and so does this relying party.
    config = await oidc.discovery(new URL(sim.issuer), clientId, clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
    });
  });

  after(async function () {
    await sim?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  afterEach(async function () {
    await sim.behave();
  });

  interface Attempt {
    readonly page: Page;
    readonly verifier: string;
    readonly state: string;
    readonly nonce: string;
  }

  const atCallback = (url: URL) => url.href.startsWith(redirectUri) || url.href.startsWith(postLogoutUri);

  async function authorize(browser: Browser, params: Record<string, string> = {}): Promise<Attempt> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: allScopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return { page: await browser.follow(url, { stopAt: atCallback }), verifier, state, nonce };
  }

  async function submit(browser: Browser, page: Page, fields: Record<string, string> = {}): Promise<Page> {
    return browser.submitForm(page.body, page.url, fields, { stopAt: atCallback });
  }

  async function redeem(attempt: Attempt, page: Page = attempt.page) {
    const location = page.location;
    if (!location?.startsWith(redirectUri)) assert.fail(`expected a redirect to the callback, got ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(location), {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    return { tokens, idClaims, userinfo };
  }

  /** Logs a person in through the login page; returns the redeemed result. */
  async function logIn(browser: Browser, username: string, params: Record<string, string> = {}) {
    const attempt = await authorize(browser, params);
    assert.match(attempt.page.body, /国家政务服务平台 统一身份认证/);
    const after = await submit(browser, attempt.page, { username, password: demoPassword });
    return { attempt, after, ...(after.location ? await redeem(attempt, after) : {}) };
  }

  describe('demo data', function () {
    it('uses synthetic resident ID numbers that pass the GB 11643 check', function () {
      for (const account of demoAccounts) {
        const facts = parseResidentId(account.certNo);
        assert.ok(facts, `${account.username}'s ID number must be valid`);
        assert.equal(residentIdCheckChar(account.certNo.slice(0, 17)), account.certNo[17]);
      }
    });

    it('uses synthetic credit codes whose check characters are right', function () {
      assert.deepEqual(Object.values(demoCompanies).map((c) => c.creditCode), [
        '91330402MA2TB0J167', '91320505MA2TB0K20P', '91340104MA2TB0H3XC', '91310115MA2TB0U40X',
      ]);
      for (const company of Object.values(demoCompanies)) {
        const code = company.creditCode;
        assert.ok(parseCreditCode(code), `${company.name} must have a valid code`);
        assert.equal(creditCodeCheckChar(code.slice(0, 17)), code[17]);
        assert.equal(organisationCodeCheckChar(code.slice(8, 16)), code[16]);
        assert.equal(code.slice(2, 8), company.division);
      }
      const divisions = Object.values(demoCompanies).map((c) => c.division.slice(0, 4));
      assert.ok(divisions.includes('3205'), 'a Suzhou company');
      assert.ok(divisions.includes('3401'), 'a Hefei company');
    });

    it('reads the requested level as the lowest acceptable one', function () {
      assert.equal(requestedLevel({ acr_values: 'urn:cn:gov:zwfw:loa:4' }), 4);
      assert.equal(requestedLevel({ acr_values: 'urn:cn:gov:zwfw:loa:4 urn:cn:gov:zwfw:loa:3' }), 3);
      assert.equal(requestedLevel({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:cn:gov:zwfw:loa:4' } } }) }), 4);
      assert.equal(requestedLevel({ acr_values: 'urn:tongban:loa:4' }), undefined);
      assert.equal(requestedLevel({}), undefined);
    });
  });

  describe('discovery', function () {
    it('reports the real issuer when started on port 0', function () {
      assert.match(sim.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(sim.issuer, 'http://127.0.0.1:0');
      assert.equal(sim.url, sim.issuer);
      const metadata = config.serverMetadata();
      assert.equal(metadata.issuer, sim.issuer);
      assert.deepEqual(metadata.acr_values_supported, ['urn:cn:gov:zwfw:loa:1', 'urn:cn:gov:zwfw:loa:2', 'urn:cn:gov:zwfw:loa:3', 'urn:cn:gov:zwfw:loa:4']);
      assert.equal(metadata.authorization_response_iss_parameter_supported, true);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      assert.equal(metadata.backchannel_logout_supported, true);
      assert.equal(metadata.claims_parameter_supported, true);
      for (const scope of allScopes.split(' ')) assert.ok(metadata.scopes_supported?.includes(scope), scope);
    });

    it('publishes an RS256 and an ES256 key', async function () {
      const response = await fetch(config.serverMetadata().jwks_uri!);
      const { keys } = await response.json() as { keys: Array<Record<string, unknown>> };
      assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      for (const key of keys) assert.equal(key.d, undefined, 'no private part is published');
    });

    it('exports the broker defaults', function () {
      const broker = defaultBrokerClient();
      assert.equal(broker.client_id, defaultBrokerClientId);
      assert.equal(broker.redirect_uris[0], 'http://127.0.0.1:3000/national/callback');
      assert.equal(broker.backchannel_logout_uri, 'http://127.0.0.1:3000/national/backchannel-logout');
    });
  });

  describe('login', function () {
    it('logs zhangsan in through the login page with claims that pass fromNational', async function () {
      const browser = new Browser();
      const result = await logIn(browser, 'zhangsan');
      assert.ok(result.idClaims && result.userinfo);
      assert.doesNotMatch(result.after.body, /人脸识别/);
      assert.equal(result.attempt.page.history.length >= 2, true);
      assert.ok(new URL(result.after.location!).searchParams.get('iss'), 'RFC 9207 iss in the response');
      assert.equal(result.idClaims.acr, 'urn:cn:gov:zwfw:loa:3');
      assert.deepEqual(result.idClaims.amr, ['pwd']);
      assert.equal(result.idClaims.sub, sim.subjectOf('zhangsan'));
      assert.equal(result.idClaims.cert_no, '330106198504121356');
      assert.equal(result.userinfo.cert_no, '330106198504121356');
      assert.equal(typeof result.idClaims.sid, 'string');
      const identity = fromNational({ ...result.userinfo, ...result.idClaims });
      assert.equal(identity.person.name, '张三');
      assert.equal(identity.person.assurance, 3);
      assert.equal(identity.person.document.type, 'resident_id');
      assert.equal(identity.person.birthDate, '1985-04-12');
      assert.equal(identity.person.phone, '+8613900000001');
      assert.ok(identity.person.certKey);
      assert.deepEqual(identity.representations, []);
      assert.ok(browser.jar.get('national_session'), 'the session cookie has the national prefix');
      assert.equal(sim.sessionsOf('zhangsan').length, 1);
    });

    it('requires PKCE', async function () {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: allScopes, state: 'no-pkce' });
      const page = await new Browser().follow(url, { stopAt: atCallback });
      const location = new URL(page.location ?? assert.fail('expected an error redirect'));
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description') ?? '', /PKCE/);
    });

    it('shows an inline error for a wrong password and for an unknown user alike', async function () {
      const browser = new Browser();
      const attempt = await authorize(browser);
      const wrong = await submit(browser, attempt.page, { username: 'zhangsan', password: 'not-the-password' });
      assert.equal(wrong.status, 200);
      assert.match(wrong.body, /用户名或密码错误/);
      assert.match(wrong.body, /<html lang="zh-CN"/, 'one language a page: Chinese by default');
      const unknown = await submit(browser, wrong, { username: 'nobody', password: demoPassword });
      assert.equal(unknown.body.replace('nobody', 'X'), wrong.body.replace('zhangsan', 'X'));
      const right = await submit(browser, unknown, { username: 'zhangsan', password: demoPassword });
      const result = await redeem(attempt, right);
      assert.equal(result.idClaims.sub, sim.subjectOf('zhangsan'));
    });

    it('refuses a login form posted without the interaction cookie', async function () {
      const attempt = await authorize(new Browser());
      const form = parseForm(attempt.page.body, attempt.page.url);
      const stranger = new Browser();
      const page = await stranger.follow(form.action, { method: 'POST', body: new URLSearchParams({ username: 'zhangsan', password: demoPassword }) });
      assert.equal(page.status, 400);
      assert.equal(page.location, undefined);
      assert.match(page.body, /登录已失效/);
    });

    it('raises zhangsan to level 4 by the face check, without asking the password again', async function () {
      const browser = new Browser();
      const first = await logIn(browser, 'zhangsan');
      assert.equal(first.idClaims?.acr, 'urn:cn:gov:zwfw:loa:3');
      const stepUp = await authorize(browser, { acr_values: 'urn:cn:gov:zwfw:loa:4' });
      assert.match(stepUp.page.body, /人脸识别（模拟）/);
      assert.doesNotMatch(stepUp.page.body, /name="password"/);
      const done = await submit(browser, stepUp.page);
      const result = await redeem(stepUp, done);
      assert.equal(result.idClaims.acr, 'urn:cn:gov:zwfw:loa:4');
      assert.deepEqual(result.idClaims.amr, ['pwd', 'face']);
      assert.ok(Number(result.idClaims.auth_time) >= Number(first.idClaims?.auth_time));
      assert.equal(fromNational({ ...result.userinfo, ...result.idClaims }).person.assurance, 4);
      // The raised session now satisfies level 4 (and anything lower) by single sign-on.
      const again = await authorize(browser, { acr_values: 'urn:cn:gov:zwfw:loa:4' });
      assert.equal((await redeem(again)).idClaims.acr, 'urn:cn:gov:zwfw:loa:4');
    });

    it('asks password then face check when level 4 is requested up front', async function () {
      const browser = new Browser();
      const result = await logIn(browser, 'zhangsan', { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:cn:gov:zwfw:loa:4' } } }) });
      assert.match(result.after.body, /人脸识别（模拟）/);
      const done = await submit(browser, result.after);
      const redeemed = await redeem(result.attempt, done);
      assert.equal(redeemed.idClaims.acr, 'urn:cn:gov:zwfw:loa:4');
    });

    it('cannot raise wangwu above level 2: it issues level 2 and leaves the decision to the broker', async function () {
      const browser = new Browser();
      const result = await logIn(browser, 'wangwu', { acr_values: 'urn:cn:gov:zwfw:loa:3' });
      assert.doesNotMatch(result.after.body, /人脸识别/);
      assert.equal(result.idClaims?.acr, 'urn:cn:gov:zwfw:loa:2');
      const identity = fromNational({ ...result.userinfo, ...result.idClaims });
      assert.equal(identity.person.assurance, 2);
      assert.equal(identity.person.phone, undefined);
      // With the session live, asking again goes straight back at level 2.
      const again = await authorize(browser, { acr_values: 'urn:cn:gov:zwfw:loa:4' });
      assert.equal((await redeem(again)).idClaims.acr, 'urn:cn:gov:zwfw:loa:2');
    });

    it('honours prompt=login and max_age', async function () {
      const browser = new Browser();
      await logIn(browser, 'zhaoliu');
      const sso = await authorize(browser);
      assert.ok(sso.page.location, 'single sign-on without prompt');
      const forced = await authorize(browser, { prompt: 'login' });
      assert.match(forced.page.body, /name="password"/);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const aged = await authorize(browser, { max_age: '1' });
      assert.match(aged.page.body, /name="password"/);
    });

    it('lists lisi as agent of three companies, one mandate expired', async function () {
      const result = await logIn(new Browser(), 'lisi');
      const claims = { ...result.userinfo, ...result.idClaims };
      const identity = fromNational(claims);
      assert.equal(identity.person.assurance, 3);
      assert.equal(identity.representations.length, 3);
      assert.ok(identity.representations.every((r) => r.role === 'agent' && r.mandate));
      const now = Math.floor(Date.now() / 1000);
      const current = currentRepresentations(identity, now);
      assert.deepEqual(current.map((r) => r.creditCode).sort(), [demoCompanies.jiaxing.creditCode, demoCompanies.suzhou.creditCode].sort());
      const expired = identity.representations.find((r) => r.creditCode === demoCompanies.hefei.creditCode);
      assert.ok(expired?.mandate && expired.mandate.expiresAt < now, 'the expired mandate is still listed, with its past expiry');
    });

    it('lists zhaoliu as legal representative of exactly one company', async function () {
      const result = await logIn(new Browser(), 'zhaoliu');
      const identity = fromNational({ ...result.userinfo, ...result.idClaims });
      assert.deepEqual(identity.representations, [{
        creditCode: demoCompanies.shanghai.creditCode,
        name: demoCompanies.shanghai.name,
        orgType: 'enterprise',
        role: 'legal_representative',
      }]);
    });

    it('revokes and re-dates mandates', function () {
      const entities = () => sim.claimsOf('lisi').entities as Array<{ credit_code: string; mandate?: { expires_at: number } }>;
      sim.setMandateExpiry('lisi', demoCompanies.suzhou.creditCode, 1_000);
      assert.equal(entities().find((e) => e.credit_code === demoCompanies.suzhou.creditCode)?.mandate?.expires_at, 1_000);
      sim.revokeMandate('lisi', demoCompanies.jiaxing.creditCode);
      assert.equal(entities().length, 2);
      assert.throws(() => sim.revokeMandate('lisi', demoCompanies.jiaxing.creditCode));
      assert.throws(() => sim.setMandateExpiry('zhaoliu', demoCompanies.shanghai.creditCode, 1_000), /not an agent/);
    });
  });

  describe('misbehaviour', function () {
    let browser: Browser;

    before(async function () {
      browser = new Browser();
      await logIn(browser, 'zhangsan');
    });

    const caught = {
      'wrong-signature': /JWT signature verification failed/,
      'wrong-audience': /"aud"/,
      'wrong-issuer': /"iss" \(issuer\) claim/,
      'wrong-nonce': /"nonce"/,
      'expired-id-token': /"exp"/,
      'alg-none': /"alg"/,
      hs256: /"alg"/,
      'wrong-response-iss': /"iss" \(issuer\) response parameter/,
    } as const;
    for (const [mode, reason] of Object.entries(caught) as Array<[keyof typeof caught, RegExp]>) {
      it(`${mode}: openid-client rejects the response for that reason`, async function () {
        await sim.misbehave(mode);
        const attempt = await authorize(browser);
        await assert.rejects(redeem(attempt), (error: Error) => reason.test(error.cause instanceof Error ? error.cause.message : error.message));
        await sim.behave();
        await redeem(await authorize(browser));
      });
    }

    it('wrong-signature keeps the kid of the real key', async function () {
      await sim.misbehave('wrong-signature');
      const attempt = await authorize(browser);
      const response = await fetch(config.serverMetadata().token_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: new URL(attempt.page.location!).searchParams.get('code')!,
          redirect_uri: redirectUri,
          code_verifier: attempt.verifier,
          client_id: clientId,
          client_secret: clientSecret,
        }),
      });
      const { id_token: idToken } = await response.json() as { id_token: string };
      const jwks = await (await fetch(config.serverMetadata().jwks_uri!)).json() as { keys: Array<{ kid: string }> };
      assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(idToken).kid));
    });

    for (const mode of ['bad-id-number', 'bad-credit-code'] as const) {
      it(`${mode}: the tokens verify but fromNational refuses the identity`, async function () {
        await sim.misbehave(mode);
        const result = await redeem(await authorize(browser));
        assert.throws(() => fromNational({ ...result.userinfo, ...result.idClaims }), (error) => isTongbanError(error) && error.code === 'identity_invalid');
      });
    }

    it('error-callback: the authorization response is access_denied, even with a live session', async function () {
      await sim.misbehave('error-callback');
      const attempt = await authorize(browser);
      const location = new URL(attempt.page.location!);
      assert.equal(location.searchParams.get('error'), 'access_denied');
      assert.equal(location.searchParams.get('state'), attempt.state);
      assert.equal(location.searchParams.get('iss'), sim.issuer);
      await assert.rejects(redeem(attempt), (error) => error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied');
    });

    it('slow: every response is delayed', async function () {
      await sim.misbehave('slow', { delayMs: 400 });
      const discovery = `${sim.issuer}/.well-known/openid-configuration`;
      await assert.rejects(fetch(discovery, { signal: AbortSignal.timeout(100) }));
      const started = Date.now();
      assert.equal((await fetch(discovery)).status, 200);
      assert.ok(Date.now() - started >= 390);
    });

    it('down: connections are refused until behave()', async function () {
      const discovery = `${sim.issuer}/.well-known/openid-configuration`;
      await sim.misbehave('down');
      assert.equal(sim.mode, 'down');
      await assert.rejects(fetch(discovery));
      await sim.behave();
      assert.equal((await fetch(discovery)).status, 200);
    });
  });

  describe('logout', function () {
    it('sends a back-channel logout token at RP-initiated logout, after a Chinese confirmation page', async function () {
      const browser = new Browser();
      const { tokens } = await logIn(browser, 'zhangsan');
      assert.ok(tokens);
      received.length = 0;
      const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutUri, state: 'bye' });
      const confirm = await browser.follow(url, { stopAt: atCallback });
      assert.match(confirm.body, /确认退出登录/);
      const done = await submit(browser, confirm);
      const landed = new URL(done.location!);
      assert.equal(landed.origin + landed.pathname, postLogoutUri);
      assert.equal(landed.searchParams.get('state'), 'bye');
      const delivered = received.find((r) => r.path === '/national/backchannel-logout');
      assert.ok(delivered, 'the client got a logout token');
      const { payload, protectedHeader } = await jwtVerify(delivered.body.get('logout_token')!, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
        issuer: sim.issuer,
        audience: clientId,
        typ: 'logout+jwt',
      });
      assert.equal(protectedHeader.typ, 'logout+jwt');
      assert.equal(payload.sub, sim.subjectOf('zhangsan'));
      assert.equal(payload.sid, tokens.claims()!.sid);
      assert.equal(sim.sessionsOf('zhangsan').filter((s) => s.sids[clientId] === payload.sid).length, 0);
    });

    it('logs a person out from the national side without a browser', async function () {
      const browser = new Browser();
      const { idClaims } = await logIn(browser, 'lisi');
      const sessions = sim.sessionsOf('lisi');
      assert.ok(sessions.some((s) => s.sids[clientId] === idClaims?.sid));
      received.length = 0;
      const deliveries = await sim.backchannelLogout('lisi');
      assert.ok(deliveries.length >= 1);
      assert.ok(deliveries.every((d) => d.status === 200 && d.clientId === clientId));
      const tokens = received.map((r) => r.body.get('logout_token')!);
      const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
      const sids = [];
      for (const token of tokens) {
        const { payload } = await jwtVerify(token, jwks, { issuer: sim.issuer, audience: clientId, typ: 'logout+jwt' });
        assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
        assert.equal(payload.sub, sim.subjectOf('lisi'));
        assert.ok(payload.jti && payload.iat);
        sids.push(payload.sid);
      }
      assert.ok(sids.includes(idClaims?.sid));
      assert.deepEqual(sim.sessionsOf('lisi'), []);
      // The national session is gone: the next authorization asks for the password.
      const next = await authorize(browser);
      assert.match(next.page.body, /name="password"/);
      // With no session left, the token carries sub only.
      received.length = 0;
      await sim.backchannelLogout('lisi');
      assert.equal(received.length, 1);
      const { payload } = await jwtVerify(received[0]!.body.get('logout_token')!, jwks, { issuer: sim.issuer, audience: clientId });
      assert.equal(payload.sid, undefined);
    });
  });

  describe('browser helper', function () {
    it('honours host, path and expiry, ignoring ports', function () {
      let now = 1_000_000;
      const jar = new CookieJar(() => now);
      jar.set('http://127.0.0.1:3100/auth/x', 'a=1; Path=/auth; HttpOnly');
      jar.set('http://127.0.0.1:3100/', 'b=2; Max-Age=10');
      jar.set('http://127.0.0.1:3100/', 'c=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
      jar.set('http://example.cn/', 'd=4; Domain=other.cn');
      assert.equal(jar.header('http://127.0.0.1:3000/auth/y'), 'a=1; b=2');
      assert.equal(jar.header('http://127.0.0.1:3000/authz'), 'b=2');
      assert.equal(jar.header('http://localhost:3100/auth'), undefined);
      now += 11_000;
      assert.equal(jar.header('http://127.0.0.1/auth'), 'a=1');
      jar.set('http://127.0.0.1/', 'a=; Path=/auth; Max-Age=0');
      assert.equal(jar.header('http://127.0.0.1/auth'), undefined);
      assert.equal(jar.all().length, 0);
    });

    it('parses a form with hidden fields, entities and the default button', function () {
      const html = '<form method="post" action="/x?a=1&amp;b=2"><input type="hidden" name="xsrf" value="t&quot;k">'
        + '<input name="u"><input type="checkbox" name="c" value="1"><select name="s"><option value="p">P</option><option value="q" selected>Q</option></select>'
        + '<button type="submit" name="go" value="yes">Go</button></form>';
      const form = parseForm(html, 'http://127.0.0.1:3100/page');
      assert.equal(form.action, 'http://127.0.0.1:3100/x?a=1&b=2');
      assert.equal(form.method, 'POST');
      assert.deepEqual(form.fields, [['xsrf', 't"k'], ['u', ''], ['s', 'q'], ['go', 'yes']]);
    });
  });
});
