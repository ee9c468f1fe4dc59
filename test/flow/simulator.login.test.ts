/**
 * The national-platform simulator's discovery and login, driven the way the broker drives it:
 * openid-client as the relying party and a cookie-jar browser on the real pages.
 */
import { strict as assert } from 'node:assert';
import * as oidc from 'openid-client';
import { currentRepresentations } from '../../broker/identity/model.ts';
import { fromNational } from '../../broker/national/claims.ts';
import { defaultBrokerClient, defaultBrokerClientId, demoCompanies, demoPassword, type NationalSimulator } from '../../scripts/dev/simulator/index.ts';
import { Browser, parseForm } from '../support/browser.ts';
import { allScopes, useNationalSimulator } from './simulator/support.ts';

describe('national-platform simulator', function () {
  const national = useNationalSimulator();
  const { atCallback, authorize, submit, redeem, logIn } = national;
  let sim: NationalSimulator;
  let config: oidc.Configuration;
  let redirectUri: string;
  before(() => ({ sim, config, redirectUri } = national));

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
});
