/**
 * One person, three provincial doors: a Shanghai portal (310000), a Zhejiang portal (嘉兴 330400)
 * and a Zhejiang legacy service system (ticket API). Each receives its own dialect, checked field by
 * field against the national simulator's data; the two provinces' subjects differ, and each is
 * stable across logins in fresh browsers.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { Browser } from '../support/browser.ts';
import { acceptConsent, authorizationRequest, relyingParty, stopAtRedirectUri, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { startZhejiangLegacySystem, type ZhejiangLegacySystem } from '../fixtures/zhejiang-legacy-system.ts';

const unserved = 'http://127.0.0.1:9';
const allScopes = 'openid profile phone id_number';
const portal = (client_id: string, city: string): ConfiguredClient => ({
  client_id,
  client_secret: `${client_id}-secret`,
  city,
  redirect_uris: [`${unserved}/${client_id}/callback`],
  scope: allScopes,
  first_party: true,
});
const shanghaiPortal = portal('shanghai-portal', '310000');
const jiaxingPortal = portal('jiaxing-portal', '330400');
const legacy = { servicecode: 'jx-gjj', servicepwd: 'jx-gjj-service-password-2027' };

interface PortalLogin {
  readonly sub: string;
  readonly idToken: Record<string, unknown>;
  readonly userinfo: Record<string, unknown>;
  /** True when the browser went through the national login page. */
  readonly national: boolean;
}

describe('the same person through Shanghai, Zhejiang and a Zhejiang legacy system', function () {
  this.timeout(30_000);
  let federation: Federation;
  let system: ZhejiangLegacySystem;
  let shanghai: RelyingParty;
  let jiaxing: RelyingParty;
  let national: Record<string, unknown>;
  let certNo: string;
  const first: { sh?: PortalLogin; zj?: PortalLogin; legacyUserid?: unknown } = {};

  before(async () => {
    system = await startZhejiangLegacySystem(legacy.servicecode, legacy.servicepwd);
    federation = await startFederation({
      clients: [shanghaiPortal, jiaxingPortal],
      overrides: {
        legacySystems: [{
          province: 'zhejiang', city: '330400', serviceCode: legacy.servicecode, name: '嘉兴公积金', callbackUrl: system.callbackUrl,
          servicePassword: legacy.servicepwd, scopes: ['profile', 'phone', 'id_number'],
        }],
      },
    });
    system.usePlatform(`${federation.issuer}/zj`);
    const rpOf = (c: ConfiguredClient) => relyingParty(federation.issuer, { clientId: c.client_id, clientSecret: c.client_secret!, redirectUri: c.redirect_uris[0]! });
    [shanghai, jiaxing] = await Promise.all([rpOf(shanghaiPortal), rpOf(jiaxingPortal)]);
    national = federation.simulator.claimsOf('zhangsan');
    certNo = String(national.cert_no);
  });
  after(async () => {
    await federation?.stop();
    await system?.stop();
  });

  async function portalLogin(browser: Browser, rp: RelyingParty): Promise<PortalLogin> {
    const attempt = await authorizationRequest(rp, { scope: allScopes });
    const stopAt = stopAtRedirectUri(rp);
    let page = await browser.follow(attempt.url, { stopAt });
    // After a national login the last step starts at the simulator's login form; with SSO no step touches the simulator.
    const sawNational = /name="password"/.test(page.body) || page.history.some((url) => url.startsWith(federation.simulator.issuer));
    if (/name="password"/.test(page.body)) page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
    page = await acceptConsent(browser, page, stopAt);
    assert.ok(page.location?.startsWith(rp.redirectUri), `login did not reach ${rp.clientId}: ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    const idToken = tokens.claims()! as Record<string, unknown>;
    const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, String(idToken.sub)) as Record<string, unknown>;
    return { sub: String(idToken.sub), idToken, userinfo, national: sawNational };
  }

  async function legacyLogin(browser: Browser) {
    let page = await browser.follow(system.loginUrl('https://gjj.jiaxing.example/'));
    const sawNational = /name="password"/.test(page.body);
    if (sawNational) page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' });
    page = await acceptConsent(browser, page);
    assert.match(page.body, /登录成功/);
    return { visit: system.visits.at(-1)!, national: sawNational || page.history.some((url) => url.startsWith(federation.simulator.issuer)) };
  }

  const birthday = () => `${certNo.slice(6, 10)}-${certNo.slice(10, 12)}-${certNo.slice(12, 14)}`;
  const male = () => Number(certNo[16]) % 2 === 1;

  function assertStandard(claims: Record<string, unknown>) {
    assert.equal(claims.name, national.name);
    assert.equal(claims.phone_number, national.phone_number);
    assert.equal(claims.birthdate, birthday());
    assert.equal(claims.gender, male() ? 'male' : 'female');
  }

  it('one browser: Shanghai (national login), then Zhejiang and the legacy system by single sign-on, each in its dialect', async () => {
    const browser = new Browser();

    const sh = await portalLogin(browser, shanghai);
    assert.equal(sh.national, true, 'the first login goes to the national platform');
    assertStandard(sh.userinfo);
    assert.equal(sh.idToken.acr, 'urn:tongban:loa:3');
    const shDialect = Object.fromEntries(Object.entries(sh.userinfo).filter(([name]) => name.startsWith('zwdtsw')));
    assert.deepEqual(shDialect, {
      zwdtswUserId: sh.userinfo.zwdtswUserId,
      zwdtswUserType: '个人',
      zwdtswAuthLevel: 'L3',
      zwdtswName: national.name,
      zwdtswLinkPhone: national.phone_number,
      zwdtswCertType: '111',
      zwdtswCertId: certNo,
    });
    assert.equal(sh.idToken.zwdtswCertId, certNo, 'the dialect is in the ID token too');
    for (const zhejiangField of ['userid', 'idnum', 'authlevel', 'username']) assert.equal(sh.userinfo[zhejiangField], undefined);

    const zj = await portalLogin(browser, jiaxing);
    assert.equal(zj.national, false, 'single sign-on: no second national login');
    assertStandard(zj.userinfo);
    const { sub: _sub, name: _n, phone_number: _p, phone_number_verified: _v, birthdate: _b, gender: _g, ...zjDialect } = zj.userinfo;
    assert.deepEqual(zjDialect, {
      userid: zj.userinfo.userid,
      loginname: zj.userinfo.userid,
      userType: 'PERSON',
      authlevel: 3,
      username: national.name,
      sex: male() ? 1 : 2,
      birthday: birthday(),
      mobile: national.phone_number,
      idtype: 1,
      idnum: certNo,
      certKey: national.cert_key,
    });

    const { visit, national: legacyNational } = await legacyLogin(browser);
    assert.equal(legacyNational, false, 'the legacy system rides the same broker session');
    assert.equal(visit.validation.result, '0');
    assert.deepEqual(visit.userInfo, {
      result: '0',
      errmsg: '',
      userid: zj.userinfo.userid,
      loginname: zj.userinfo.userid,
      userType: 'PERSON',
      authlevel: '3',
      username: national.name,
      sex: male() ? '1' : '2',
      birthday: birthday(),
      mobile: national.phone_number,
      idtype: '1',
      idnum: certNo,
      certKey: national.cert_key,
    });

    // Pairwise per province: the provinces see different subjects and user ids, none from the ID number.
    assert.notEqual(sh.sub, zj.sub);
    assert.notEqual(sh.userinfo.zwdtswUserId, zj.userinfo.userid);
    for (const id of [sh.sub, zj.sub, sh.userinfo.zwdtswUserId, zj.userinfo.userid]) {
      assert.ok(!String(id).includes(certNo) && !String(id).includes(federation.simulator.subjectOf('zhangsan')));
    }
    Object.assign(first, { sh, zj, legacyUserid: visit.userInfo!.userid });
  });

  it('fresh browsers, new logins: each province\'s sub and user id are the same as before', async () => {
    assert.ok(first.sh && first.zj, 'runs after the first login');
    const sh = await portalLogin(new Browser(), shanghai);
    const zj = await portalLogin(new Browser(), jiaxing);
    assert.equal(sh.national && zj.national, true, 'each fresh browser logs in at the national platform');
    assert.equal(sh.sub, first.sh.sub);
    assert.equal(sh.userinfo.zwdtswUserId, first.sh.userinfo.zwdtswUserId);
    assert.equal(zj.sub, first.zj.sub);
    assert.equal(zj.userinfo.userid, first.zj.userinfo.userid);
    const again = await legacyLogin(new Browser());
    assert.equal(again.national, true);
    assert.equal(again.visit.userInfo!.userid, first.legacyUserid);
  });
});
