/**
 * The Zhejiang legacy ticket bridge end to end, its login side: `sso/usp.do` login through the
 * broker (and the national platform) up to ticketValidation and getUserInfo, single sign-on, bad
 * input at the login entry and the return route, refusals, logout and revocation, over real HTTP.
 */
import assert from 'node:assert/strict';
import { revokeLegacyTokensForAccount } from '../../broker/legacy/index.ts';
import { accountIdOf, createDerive } from '../../broker/identity/subjects.ts';
import { Browser } from '../support/browser.ts';
import { acceptConsent, login, type Federation, type RelyingParty } from '../support/federation.ts';
import type { ZhejiangLegacySystem } from '../fixtures/zhejiang-legacy-system.ts';
import { hangzhouQueue, ningboTax, portal, subjectSecret, unserved, useZhejiangBridge } from './legacy.zhejiang/support.ts';

describe('Zhejiang legacy bridge (sso/usp.do, simpleauth)', function () {
  this.timeout(30_000);
  const bridge = useZhejiangBridge();
  const { legacyLogin, simpleauth, signedBy, asNingbo, assertNoPersonalData } = bridge;
  let federation: Federation;
  let system: ZhejiangLegacySystem;
  let rp: RelyingParty;
  let zj: string;
  before(() => ({ federation, system, rp, zj } = bridge));

  it('a system written from the provincial documentation completes login, ticketValidation and getUserInfo', async () => {
    const browser = new Browser();
    const goto = 'https://gjj.jiaxing.example/loan/apply?step=2';
    let page = await browser.follow(system.loginUrl(goto));
    assert.match(page.body, /name="password"/, 'the national login page is shown');
    page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' });
    // The ID number and phone need the person's separate consent for the legacy bridge too (issue 13).
    assert.match(page.body, /name="sensitive" value="id_number"/);
    page = await acceptConsent(browser, page);
    assert.equal(page.status, 200);
    assert.match(page.body, /登录成功/);
    assert.ok(page.history.some((url) => url.startsWith(`${federation.issuer}/legacy/return`)), 'the broker redeemed the code on its return route');

    const visit = system.visits.at(-1)!;
    assert.equal(visit.sp, goto, 'goto is echoed as sp');
    const national = federation.simulator.claimsOf('zhangsan');
    const certNo = String(national.cert_no);
    const { validation, userInfo } = visit;
    assert.equal(validation.result, '0');
    assert.equal(validation.errmsg, '');
    assert.match(String(validation.token), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(validation.username, national.name);
    assert.equal(validation.orgcoding, '');
    assert.equal(validation.loginname, validation.userid);
    assert.ok(userInfo);
    assert.deepEqual(userInfo, {
      result: '0',
      errmsg: '',
      userid: validation.userid,
      loginname: validation.userid,
      userType: 'PERSON',
      authlevel: '3',
      username: national.name,
      sex: Number(certNo[16]) % 2 === 1 ? '1' : '2',
      birthday: `${certNo.slice(6, 10)}-${certNo.slice(10, 12)}-${certNo.slice(12, 14)}`,
      mobile: national.phone_number,
      idtype: '1',
      idnum: certNo,
      certKey: national.cert_key,
    });
    assert.ok(!String(validation.userid).includes(certNo) && !String(validation.userid).includes(federation.simulator.subjectOf('zhangsan')));
  });

  it('the provincial user id is stable across logins and equals the Zhejiang portal\'s userid', async () => {
    const first = system.visits.at(-1)!.validation.userid;
    const browser = new Browser();
    const { tokens } = await login(browser, rp, 'zhangsan', { scope: 'openid profile' });
    const userinfo = await fetch(rp.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal((await userinfo.json() as { userid: string }).userid, first);
    // SSO: the same browser reaches the legacy system with no national login on the way.
    const page = await acceptConsent(browser, await browser.follow(system.loginUrl('/')));
    assert.match(page.body, /登录成功/);
    assert.ok(!page.history.some((url) => url.startsWith(federation.simulator.issuer)), 'no national login with a broker session');
    assert.equal(system.visits.at(-1)!.validation.userid, first);
  });

  it('goto is never a redirect target: a foreign goto only travels as sp to the registered callback', async () => {
    const callback = await legacyLogin(new Browser(), ningboTax.serviceCode, { goto: 'https://evil.example/steal' });
    assert.equal(callback.origin + callback.pathname, `${unserved}/nb-tax/callback`);
    assert.equal(callback.searchParams.get('from'), 'tongban', 'the registered callback is kept as registered');
    assert.equal(callback.searchParams.get('sp'), 'https://evil.example/steal');
    const ticket = callback.searchParams.get('ticket');
    assert.ok(ticket && callback.searchParams.get('st') === ticket);
  });

  it('accepts redirectUrl for goto, and POST form calls', async () => {
    const callback = await legacyLogin(new Browser(), ningboTax.serviceCode, { redirectUrl: 'https://tax.ningbo.example/home' });
    assert.equal(callback.searchParams.get('sp'), 'https://tax.ningbo.example/home');
    const body = new URLSearchParams({ method: 'ticketValidation', ...asNingbo(), st: callback.searchParams.get('st')! }).toString();
    const validated = await simpleauth({}, { method: 'POST', body });
    assert.equal(validated.json.result, '0');
    const info = await simpleauth({}, { method: 'POST', body: new URLSearchParams({ method: 'getUserInfo', ...asNingbo(), token: validated.json.token! }).toString() });
    assert.equal(info.json.result, '0');
    assert.equal(info.json.idtype, '1');
  });

  it('releases only what the system is registered for', async () => {
    const callback = await legacyLogin(new Browser(), hangzhouQueue.serviceCode);
    const signed = signedBy(hangzhouQueue.serviceCode, hangzhouQueue.servicePassword);
    const validated = await simpleauth({ method: 'ticketValidation', ...signed, st: callback.searchParams.get('ticket')! });
    assert.equal(validated.json.result, '0');
    assert.equal(validated.json.username, undefined, 'no profile scope, no name');
    // Every call signed afresh: the pair used for ticketValidation is spent (6007).
    const info = await simpleauth({ method: 'getUserInfo', ...signedBy(hangzhouQueue.serviceCode, hangzhouQueue.servicePassword), token: validated.json.token! });
    assert.deepEqual(Object.keys(info.json).sort(), ['authlevel', 'errmsg', 'loginname', 'result', 'userType', 'userid']);
    assertNoPersonalData(info.text);
  });

  describe('bad input at the login entry and the return route: a page with a stable code', () => {
    const page = async (url: string, browser = new Browser()) => browser.get(url);

    it('an unknown or malformed servicecode, a wrong action', async () => {
      for (const [query, code] of [
        ['action=ssoLogin&servicecode=no-such-system&goto=/', 'legacy_unknown_system'],
        ['action=ssoLogin&goto=/', 'legacy_invalid_request'],
        ['action=logout&servicecode=nb-tax', 'legacy_invalid_request'],
        ['action=ssoLogin&servicecode=nb-tax&goto=a&redirectUrl=b', 'legacy_invalid_request'],
        ['action=ssoLogin&servicecode=nb-tax&goto=%0d%0aSet-Cookie:x', 'legacy_invalid_request'],
      ] as const) {
        const answer = await page(`${zj}/sso/usp.do?${query}`);
        assert.equal(answer.status, 400, query);
        assert.equal(answer.location, undefined, 'no redirect anywhere');
        assert.match(answer.body, new RegExp(code));
        assert.doesNotMatch(answer.body, /at \w+ \(/, 'no stack trace');
      }
    });

    it('a forged, foreign-browser or replayed return is refused', async () => {
      const forged = await page(`${federation.issuer}/legacy/return?state=${'s'.repeat(43)}&code=abc&iss=${encodeURIComponent(federation.issuer)}`);
      assert.equal(forged.status, 400);
      assert.match(forged.body, /legacy_state_mismatch/);

      // Capture a real return URL, then present it from another browser and again from the same one.
      const browser = new Browser();
      let returnUrl: string | undefined;
      const stopAt = (url: URL) => {
        if (url.pathname === '/legacy/return') returnUrl = url.href;
        return url.pathname === '/legacy/return';
      };
      let step = await browser.follow(`${zj}/sso/usp.do?action=ssoLogin&servicecode=nb-tax`, { stopAt });
      step = await browser.submitForm(step.body, step.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
      step = await acceptConsent(browser, step, stopAt);
      assert.ok(returnUrl);
      const stranger = await page(returnUrl, new Browser());
      assert.equal(stranger.status, 400);
      assert.match(stranger.body, /legacy_state_mismatch/);
      const first = await browser.get(returnUrl);
      assert.equal(first.status, 302);
      assert.ok(first.location?.startsWith(`${unserved}/nb-tax/callback`));
      const replay = await browser.get(returnUrl);
      assert.equal(replay.status, 400);
      assert.match(replay.body, /legacy_state_mismatch/);
    });
  });

  describe('refusals during the login', () => {
    afterEach(async () => federation.simulator.behave());

    it('a national login that is refused comes back as one page, and no ticket is issued', async () => {
      await federation.simulator.misbehave('error-callback');
      const browser = new Browser();
      const stopAt = (url: URL) => url.href.startsWith(unserved);
      let page = await browser.follow(`${zj}/sso/usp.do?action=ssoLogin&servicecode=nb-tax&goto=/x`, { stopAt });
      if (/name="password"/.test(page.body)) {
        page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
      }
      // The national access_denied ends the bridge's authorization at once: the legacy return says so.
      assert.equal(page.status, 403);
      assert.equal(page.location, undefined, 'nothing is sent to the system');
      assert.match(page.body, /legacy_login_failed/);
      assert.ok(federation.logger.lines.some((line) => line.code === 'upstream_denied'));
    });

    it('a suspended system: the login entry refuses it and simpleauth answers 6001', async () => {
      const callback = await legacyLogin(new Browser(), ningboTax.serviceCode);
      await federation.broker.legacy.registry.register({ ...ningboTax, suspended: true }, { replace: true });
      try {
        const answer = await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: callback.searchParams.get('ticket')! });
        assert.equal(answer.json.result, '6001');
        const page = await new Browser().get(`${zj}/sso/usp.do?action=ssoLogin&servicecode=nb-tax`);
        assert.equal(page.status, 400);
        assert.match(page.body, /legacy_unknown_system/);
      } finally {
        await federation.broker.legacy.registry.register(ningboTax, { replace: true });
      }
    });
  });

  describe('ending the broker session ends the legacy tokens', () => {
    it('logout at a portal of the same browser: getUserInfo answers 6005', async () => {
      const browser = new Browser();
      const { tokens } = await login(browser, rp, 'zhangsan');
      const callback = await legacyLogin(browser, ningboTax.serviceCode);
      const validated = await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: callback.searchParams.get('ticket')! });
      assert.equal(validated.json.result, '0');
      const end = new URL(rp.config.serverMetadata().end_session_endpoint!);
      end.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: portal.post_logout_redirect_uris![0]! }).toString();
      const confirm = await browser.follow(end);
      await browser.submitForm(confirm.body, confirm.url, { logout: 'yes' }, { stopAt: (u) => u.href.startsWith(unserved) });
      assert.equal((await simpleauth({ method: 'getUserInfo', ...asNingbo(), token: validated.json.token! })).json.result, '6005');
    });

    it('revokeLegacyTokensForAccount ends tokens and unredeemed tickets of the account', async () => {
      const browser = new Browser();
      const callback = await legacyLogin(browser, ningboTax.serviceCode);
      const validated = await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: callback.searchParams.get('ticket')! });
      const pending = (await legacyLogin(browser, ningboTax.serviceCode)).searchParams.get('ticket')!;
      const accountId = accountIdOf(createDerive(subjectSecret), federation.simulator.subjectOf('zhangsan'));
      assert.ok((await revokeLegacyTokensForAccount(federation.broker.store, accountId)) >= 2);
      assert.equal((await simpleauth({ method: 'getUserInfo', ...asNingbo(), token: validated.json.token! })).json.result, '6005');
      assert.equal((await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: pending })).json.result, '6004');
    });
  });


  // A suite of its own: mocha runs a suite's tests before its sub-suites, and this reads what they logged.
  describe('afterwards', () => it('keeps personal data, tickets and tokens of the login flow out of the logs', async () => {
    const national = federation.simulator.claimsOf('zhangsan');
    const text = JSON.stringify(federation.logger.lines);
    for (const value of [national.name, national.cert_no, national.phone_number, national.cert_key]) {
      assert.ok(!text.includes(String(value)), 'a log line carries personal data');
    }
    for (const visit of system.visits) assert.ok(!text.includes(String(visit.validation.token)), 'a log line carries a token');
    // No query string of a legacy endpoint (time, sign, st, token) reaches a log line.
    for (const marker of ['sign=', 'st=', 'token=', 'servicecode=', 'simpleauth?', 'usp.do?']) {
      assert.ok(!text.includes(marker), `a log line carries a legacy query string (${marker})`);
    }
    assert.ok(!federation.logger.lines.some((line) => line.event === 'legacy_call' && line.level === 'error'), 'no internal errors');
  }));
});
