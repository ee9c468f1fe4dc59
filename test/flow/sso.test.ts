/**
 * Single sign-on across provinces and step-up, end to end: one browser, portals of three provinces
 * (openid-client relying parties), the broker, and the national-platform simulator. National logins
 * are counted by the national pages the browser is shown.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';

const portal = (id: string, city: string, name: string): ConfiguredClient => ({
  client_id: id,
  client_secret: `${id}-secret`,
  client_name: name,
  city,
  redirect_uris: [`http://127.0.0.1:9/${id}/callback`],
  post_logout_redirect_uris: [`http://127.0.0.1:9/${id}/logged-out`],
  scope: 'openid profile phone id_number',
  first_party: true,
});
const shanghai = portal('shanghai-portal', '310000', '上海一网通办');
const zhejiang = portal('zhejiang-portal', '330100', '浙里办 杭州');
const jiangsu = portal('jiangsu-portal', '320500', '江苏政务服务网 苏州');

/** What the browser went through at the national platform during one authorization. */
interface Visit {
  readonly page: Page;
  /** National password forms shown. */
  readonly passwordForms: number;
  /** National face checks shown. */
  readonly faceChecks: number;
  /** Requests that reached the national platform at all. */
  readonly nationalRequests: number;
}

describe('single sign-on across provinces and step-up (end to end)', function () {
  this.timeout(30_000);
  let federation: Federation;
  const rps: Record<string, RelyingParty> = {};
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async () => {
    federation = await startFederation({ clients: [shanghai, zhejiang, jiangsu] });
    for (const client of [shanghai, zhejiang, jiangsu]) {
      rps[client.client_id] = await relyingParty(federation.issuer, { clientId: client.client_id, clientSecret: client.client_secret!, redirectUri: client.redirect_uris[0]! });
    }
    jwks = createRemoteJWKSet(new URL(`${federation.issuer}/jwks`));
  });
  after(async () => federation?.stop());

  /** Runs one authorization request, filling in the national forms as `username` when shown. */
  async function visit(browser: Browser, rp: RelyingParty, params: Record<string, string>, username?: string): Promise<Visit & { attempt: Awaited<ReturnType<typeof authorizationRequest>> }> {
    const attempt = await authorizationRequest(rp, params);
    const stopAt = stopAtRedirectUri(rp);
    const national = new URL(federation.simulator.url).origin;
    let passwordForms = 0;
    let faceChecks = 0;
    let page = await browser.follow(attempt.url, { stopAt });
    const seen = [...page.history];
    for (let step = 0; step < 6 && !page.location?.startsWith(rp.redirectUri); step += 1) {
      if (page.status !== 200 || !/<form/i.test(page.body)) break;
      if (/name="password"/.test(page.body)) {
        passwordForms += 1;
        if (!username) break;
        page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
      } else if (/\/face"/.test(page.body)) {
        faceChecks += 1;
        page = await browser.submitForm(page.body, page.url, {}, { stopAt });
      } else {
        break;
      }
      seen.push(...page.history);
    }
    const nationalRequests = seen.filter((url) => new URL(url).origin === national).length;
    return { page, passwordForms, faceChecks, nationalRequests, attempt };
  }

  async function redeem(rp: RelyingParty, v: Awaited<ReturnType<typeof visit>>): Promise<{ claims: JWTPayload; userinfo: Record<string, unknown> }> {
    assert.ok(v.page.location?.startsWith(rp.redirectUri), `expected a redirect to the portal, got ${v.page.status} ${v.page.url} ${v.page.body.slice(0, 300)}`);
    const callback = new URL(v.page.location!);
    assert.ok(callback.searchParams.get('code'), `no code: ${callback.search}`);
    const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
      pkceCodeVerifier: v.attempt.codeVerifier, expectedState: v.attempt.state, expectedNonce: v.attempt.nonce, idTokenExpected: true,
    });
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: federation.issuer, audience: rp.clientId });
    const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, payload.sub!);
    return { claims: payload, userinfo };
  }

  const errorOf = (v: Visit) => (v.page.location ? new URL(v.page.location).searchParams.get('error') : null);

  describe('single sign-on', () => {
    const browser = new Browser();
    let shanghaiSub: string;
    let nationalAuthTime: number | undefined;

    it('logs in at a Shanghai portal through one national login', async () => {
      const v = await visit(browser, rps[shanghai.client_id]!, {}, 'zhangsan');
      assert.equal(v.passwordForms, 1);
      const { claims, userinfo } = await redeem(rps[shanghai.client_id]!, v);
      shanghaiSub = claims.sub!;
      assert.equal(claims.acr, 'urn:tongban:loa:3');
      assert.equal(userinfo.zwdtswAuthLevel, 'L3', 'Shanghai dialect');
      assert.equal(userinfo.zwdtswName, '张三');
      const sessions = federation.simulator.sessionsOf('zhangsan');
      assert.equal(sessions.length, 1);
      nationalAuthTime = sessions[0]!.authTime;
    });

    it('the same browser at a Zhejiang portal gets in with no login form and no national request', async () => {
      const v = await visit(browser, rps[zhejiang.client_id]!, {});
      assert.equal(v.passwordForms, 0);
      assert.equal(v.nationalRequests, 0, 'the broker session is reused without a national round trip');
      const { claims, userinfo } = await redeem(rps[zhejiang.client_id]!, v);
      assert.notEqual(claims.sub, shanghaiSub, 'each province has its own pairwise sub');
      assert.equal(claims.acr, 'urn:tongban:loa:3');
      assert.equal(userinfo.authlevel, 3, 'Zhejiang dialect');
      assert.equal(userinfo.zwdtswAuthLevel, undefined, 'no Shanghai dialect in Zhejiang');
      const sessions = federation.simulator.sessionsOf('zhangsan');
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]!.authTime, nationalAuthTime, 'no second national login');
    });

    it('prompt=none succeeds silently with a session', async () => {
      const v = await visit(browser, rps[jiangsu.client_id]!, { prompt: 'none' });
      const { userinfo } = await redeem(rps[jiangsu.client_id]!, v);
      assert.equal(userinfo.authLevel, 1, 'Jiangsu dialect: broker level 3 is 实名 (1)');
      assert.equal(v.nationalRequests, 0);
    });

    it('prompt=login forces a new national login', async () => {
      await sleep(1100); // auth_time has one-second resolution
      const v = await visit(browser, rps[jiangsu.client_id]!, { prompt: 'login' }, 'zhangsan');
      assert.equal(v.passwordForms, 1);
      const { claims } = await redeem(rps[jiangsu.client_id]!, v);
      const sessions = federation.simulator.sessionsOf('zhangsan');
      assert.ok(sessions[0]!.authTime! > nationalAuthTime!, 'the national platform authenticated again');
      assert.equal(claims.auth_time, sessions[0]!.authTime);
      nationalAuthTime = sessions[0]!.authTime;
    });

    it('max_age forces a new national login once the session is older', async () => {
      const fresh = await visit(browser, rps[shanghai.client_id]!, { max_age: '60' });
      assert.equal(fresh.passwordForms, 0, 'a recent login satisfies max_age');
      await redeem(rps[shanghai.client_id]!, fresh);
      // Older than max_age=1 means two whole seconds after auth_time (epoch-second resolution).
      await sleep(Math.max(0, (nationalAuthTime! + 2) * 1000 - Date.now() + 50));
      const v = await visit(browser, rps[shanghai.client_id]!, { max_age: '1' }, 'zhangsan');
      assert.equal(v.passwordForms, 1);
      const { claims } = await redeem(rps[shanghai.client_id]!, v);
      assert.ok((claims.auth_time as number) > nationalAuthTime!);
    });

    it('prompt=none without a session answers login_required', async () => {
      const v = await visit(new Browser(), rps[zhejiang.client_id]!, { prompt: 'none' });
      assert.equal(errorOf(v), 'login_required');
      assert.equal(v.nationalRequests, 0);
    });
  });

  describe('step-up', () => {
    it('a session below the requested level goes back to the national platform for a face check only', async () => {
      const browser = new Browser();
      const first = await visit(browser, rps[shanghai.client_id]!, {}, 'zhangsan');
      assert.equal((await redeem(rps[shanghai.client_id]!, first)).claims.acr, 'urn:tongban:loa:3');

      const v = await visit(browser, rps[jiangsu.client_id]!, { acr_values: 'urn:tongban:loa:4' }, 'zhangsan');
      assert.equal(v.passwordForms, 0, 'no password again');
      assert.equal(v.faceChecks, 1, 'exactly one national re-authentication');
      const { claims, userinfo } = await redeem(rps[jiangsu.client_id]!, v);
      assert.equal(claims.acr, 'urn:tongban:loa:4');
      assert.deepEqual(claims.amr, ['pwd', 'face']);
      assert.equal(userinfo.authLevel, 2, 'Jiangsu 实人');

      // The raised session now serves the same demand elsewhere without any national request.
      const again = await visit(browser, rps[zhejiang.client_id]!, { acr_values: 'urn:tongban:loa:4' });
      assert.equal(again.nationalRequests, 0);
      assert.equal((await redeem(rps[zhejiang.client_id]!, again)).claims.acr, 'urn:tongban:loa:4');
    });

    it('an essential acr claim steps up the same way, and a lower essential value is met by the higher level', async () => {
      const browser = new Browser();
      await redeem(rps[shanghai.client_id]!, await visit(browser, rps[shanghai.client_id]!, {}, 'zhangsan'));
      const essential = (value: string) => JSON.stringify({ id_token: { acr: { essential: true, value } } });
      const v = await visit(browser, rps[zhejiang.client_id]!, { claims: essential('urn:tongban:loa:4') }, 'zhangsan');
      assert.equal(v.faceChecks, 1);
      assert.equal(v.passwordForms, 0);
      assert.equal((await redeem(rps[zhejiang.client_id]!, v)).claims.acr, 'urn:tongban:loa:4');

      // Levels are ordered: asking for 3 with a session at 4 is met at once, and acr says 4.
      const lower = await visit(browser, rps[jiangsu.client_id]!, { claims: essential('urn:tongban:loa:3') });
      assert.equal(lower.nationalRequests, 0);
      assert.equal((await redeem(rps[jiangsu.client_id]!, lower)).claims.acr, 'urn:tongban:loa:4');
      const values = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:tongban:loa:2', 'urn:tongban:loa:3'] } } });
      const listed = await visit(browser, rps[shanghai.client_id]!, { claims: values });
      assert.equal(listed.nationalRequests, 0);
      assert.equal((await redeem(rps[shanghai.client_id]!, listed)).claims.acr, 'urn:tongban:loa:4');
    });

    it('a level the person cannot reach: the portal gets unmet_authentication_requirements, the person a page', async () => {
      const browser = new Browser();
      const first = await visit(browser, rps[shanghai.client_id]!, {}, 'wangwu');
      assert.equal((await redeem(rps[shanghai.client_id]!, first)).claims.acr, 'urn:tongban:loa:2');

      const v = await visit(browser, rps[zhejiang.client_id]!, { acr_values: 'urn:tongban:loa:3' }, 'wangwu');
      assert.equal(v.passwordForms, 0);
      assert.equal(v.page.status, 403);
      assert.match(v.page.body, /unmet_authentication_requirements/);
      assert.match(v.page.body, /实名认证等级 3 级/);
      assert.match(v.page.body, /完成的认证为 2 级/);
      const back = /<a class="button" href="([^"]+)"/.exec(v.page.body)?.[1];
      assert.ok(back, 'the page leads back to the portal');
      const returned = await browser.follow(back.replaceAll('&amp;', '&'), { stopAt: stopAtRedirectUri(rps[zhejiang.client_id]!) });
      const result = new URL(returned.location!);
      assert.equal(result.searchParams.get('error'), 'unmet_authentication_requirements');
      assert.equal(result.searchParams.get('state'), v.attempt.state);
      assert.equal(result.searchParams.get('code'), null);

      // The basic-level session is not lost: a portal that asks for no more still gets in silently, at 2.
      const after = await visit(browser, rps[jiangsu.client_id]!, { prompt: 'none' });
      assert.equal((await redeem(rps[jiangsu.client_id]!, after)).claims.acr, 'urn:tongban:loa:2');
    });

    it('a fresh login asking for an unreachable level is refused after the national login', async () => {
      const browser = new Browser();
      const v = await visit(browser, rps[jiangsu.client_id]!, { acr_values: 'urn:tongban:loa:4' }, 'wangwu');
      assert.equal(v.passwordForms, 1);
      assert.equal(v.faceChecks, 0);
      assert.equal(v.page.status, 403);
      assert.match(v.page.body, /unmet_authentication_requirements/);
    });

    it('prompt=none cannot step up: the portal gets an error, not a lower level', async () => {
      const browser = new Browser();
      await redeem(rps[shanghai.client_id]!, await visit(browser, rps[shanghai.client_id]!, {}, 'zhangsan'));
      const v = await visit(browser, rps[zhejiang.client_id]!, { prompt: 'none', acr_values: 'urn:tongban:loa:4' });
      assert.equal(v.nationalRequests, 0);
      assert.equal(errorOf(v), 'login_required');
    });

    it('acr_values naming an unknown level: invalid_request, no national request', async () => {
      const browser = new Browser();
      const requests: Array<Record<string, string>> = [
        { acr_values: 'urn:example:gold' },
        { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:tongban:loa:9' } } }) },
      ];
      for (const params of requests) {
        const v = await visit(browser, rps[shanghai.client_id]!, params, 'zhangsan');
        assert.equal(errorOf(v), 'invalid_request', JSON.stringify(params));
        assert.equal(v.nationalRequests, 0);
      }
    });
  });
});
