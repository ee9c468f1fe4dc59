/**
 * The Zhejiang legacy ticket bridge end to end: `sso/usp.do` login through the broker (and the
 * national platform), `simpleauth` ticketValidation and getUserInfo, every documented failure,
 * single sign-on, logout and revocation, over real HTTP.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../config/defaults.ts';
import { revokeLegacyTokensForAccount } from '../../broker/legacy/index.ts';
import { legacyReplayKey } from '../../broker/legacy/protocol.ts';
import { accountIdOf, createDerive } from '../../broker/identity/subjects.ts';
import { Browser } from '../support/browser.ts';
import { acceptConsent, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { startZhejiangLegacySystem, type ZhejiangLegacySystem } from '../fixtures/zhejiang-legacy-system.ts';

const subjectSecret = 'legacy-zhejiang-test-subject-secret-0123456789';
const unserved = 'http://127.0.0.1:9';

const portal: ConfiguredClient = {
  client_id: 'jiaxing-portal',
  client_secret: 'jiaxing-portal-secret',
  city: '330400',
  redirect_uris: [`${unserved}/jiaxing/callback`],
  post_logout_redirect_uris: [`${unserved}/jiaxing/logged-out`],
  scope: 'openid profile phone id_number',
  first_party: true,
};
const jiaxingFund = { serviceCode: 'jx-gjj', servicePassword: 'jx-gjj-service-password-2027' };
const hangzhouQueue: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330100',
  serviceCode: 'hz-queue',
  name: '杭州排队叫号',
  callbackUrl: `${unserved}/hz-queue/callback`,
  servicePassword: 'hz-queue-service-password',
  scopes: [],
};
const ningboTax: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330200',
  serviceCode: 'nb-tax',
  name: '宁波办税',
  callbackUrl: `${unserved}/nb-tax/callback?from=tongban`,
  servicePassword: 'nb-tax-service-password-000',
  scopes: ['profile', 'phone', 'id_number'],
};

function beijingTime(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
}
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('Zhejiang legacy bridge (sso/usp.do, simpleauth)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let system: ZhejiangLegacySystem;
  let rp: RelyingParty;
  let zj: string;

  before(async () => {
    system = await startZhejiangLegacySystem(jiaxingFund.serviceCode, jiaxingFund.servicePassword);
    federation = await startFederation({
      clients: [portal],
      overrides: {
        keys: { subjectSecret },
        ttl: { legacyTicket: 2 },
        legacySystems: [
          { province: 'zhejiang', city: '330400', name: '嘉兴公积金', callbackUrl: system.callbackUrl, scopes: ['profile', 'phone', 'id_number'], ...jiaxingFund },
          hangzhouQueue,
        ],
      },
    });
    zj = `${federation.issuer}/zj`;
    system.usePlatform(zj);
    // A system registered at run time, as the admin CLI does.
    await federation.broker.legacy.registry.register(ningboTax);
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => {
    await federation?.stop();
    await system?.stop();
  });

  /** Runs a browser through a legacy login up to the (unserved) callback; returns that URL. */
  async function legacyLogin(browser: Browser, servicecode: string, params: Record<string, string> = {}, username = 'zhangsan'): Promise<URL> {
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    const entry = `${zj}/sso/usp.do?${new URLSearchParams({ action: 'ssoLogin', servicecode, ...params })}`;
    let page = await browser.follow(entry, { stopAt });
    if (page.status === 200 && /name="password"/.test(page.body)) {
      page = await browser.submitForm(page.body, page.url, { username, password: 'tongban-demo' }, { stopAt });
    }
    page = await acceptConsent(browser, page, stopAt);
    assert.ok(page.location?.startsWith(unserved), `legacy login did not reach the callback: ${page.status} ${page.url}`);
    return new URL(page.location!);
  }

  async function simpleauth(params: Record<string, string>, init: { method?: 'GET' | 'POST'; body?: string; contentType?: string } = {}) {
    const url = `${zj}/sso/servlet/simpleauth?${new URLSearchParams(params)}`;
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined ? { body: init.body, headers: { 'content-type': init.contentType ?? 'application/x-www-form-urlencoded' } } : {}),
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Record<string, string> };
  }

  // A (servicecode, time, sign) is accepted once: each call here signs a second not used before.
  const usedTimes = new Set<string>();
  const signedBy = (servicecode: string, password: string, offsetMs = 0) => {
    let time = beijingTime(offsetMs);
    for (let back = 1; usedTimes.has(`${servicecode} ${time}`); back += 1) time = beijingTime(offsetMs - back * 1000);
    usedTimes.add(`${servicecode} ${time}`);
    return { servicecode, time, sign: md5(servicecode + password + time), datatype: 'json' };
  };
  const asNingbo = (offsetMs = 0) => signedBy(ningboTax.serviceCode, ningboTax.servicePassword, offsetMs);

  function assertNoPersonalData(text: string) {
    const national = federation.simulator.claimsOf('zhangsan');
    for (const value of [national.name, national.cert_no, national.phone_number, national.cert_key]) {
      assert.ok(!text.includes(String(value)), 'personal data in an error answer');
    }
  }

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

  describe('bad input at simpleauth: each failure its documented result, never a 500', () => {
    let ticket = '';
    let token = '';

    before(async () => {
      const callback = await legacyLogin(new Browser(), ningboTax.serviceCode);
      ticket = callback.searchParams.get('ticket')!;
    });

    it('6001 unknown servicecode', async () => {
      const answer = await simpleauth({ method: 'ticketValidation', ...signedBy('no-such-system', 'whatever-password-123'), st: ticket });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.result, '6001');
      assert.ok(answer.json.errmsg);
    });

    it('6001 a servicecode of another province (a Jiangsu app_id is not a Zhejiang servicecode)', async () => {
      const answer = await simpleauth({ method: 'ticketValidation', ...signedBy('sz-gjj', 'sz-gjj-app-secret-00000'), st: ticket });
      assert.equal(answer.json.result, '6001');
    });

    it('6002 wrong sign (wrong password, and a sign over other parameters)', async () => {
      const wrongPassword = signedBy(ningboTax.serviceCode, 'not-the-service-password');
      assert.equal((await simpleauth({ method: 'ticketValidation', ...wrongPassword, st: ticket })).json.result, '6002');
      const good = asNingbo();
      const shifted = { ...good, time: beijingTime(-1000) };
      assert.equal((await simpleauth({ method: 'ticketValidation', ...shifted, st: ticket })).json.result, '6002');
      // Upper-case hex is the same sign: the call gets past the sign check (to the unknown ticket).
      assert.equal((await simpleauth({ method: 'ticketValidation', ...good, sign: good.sign.toUpperCase(), st: 'D'.repeat(43) })).json.result, '6004');
    });

    it('6003 stale or future time (outside ±5 minutes)', async () => {
      const stale = await simpleauth({ method: 'ticketValidation', ...asNingbo(-6 * 60_000), st: ticket });
      assert.equal(stale.json.result, '6003');
      const future = await simpleauth({ method: 'ticketValidation', ...asNingbo(6 * 60_000), st: ticket });
      assert.equal(future.json.result, '6003');
    });

    it('a HEAD request does not use up the ticket', async () => {
      const head = await fetch(`${zj}/sso/servlet/simpleauth?${new URLSearchParams({ method: 'ticketValidation', ...asNingbo(), st: ticket })}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    });

    it('the ticket survived every refused call above, then works once; 6004 on replay', async () => {
      const first = await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: ticket });
      assert.equal(first.json.result, '0');
      token = first.json.token!;
      const replay = await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: ticket });
      assert.equal(replay.json.result, '6004');
      assert.equal(replay.json.token, undefined);
      assertNoPersonalData(replay.text);
    });

    it('6004 a ticket issued to another system, which does not use it up', async () => {
      const callback = await legacyLogin(new Browser(), hangzhouQueue.serviceCode);
      const foreign = callback.searchParams.get('ticket')!;
      assert.equal((await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: foreign })).json.result, '6004');
      const owner = signedBy(hangzhouQueue.serviceCode, hangzhouQueue.servicePassword);
      assert.equal((await simpleauth({ method: 'ticketValidation', ...owner, st: foreign })).json.result, '0');
    });

    it('6004 an unknown or expired ticket', async () => {
      assert.equal((await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: 'A'.repeat(43) })).json.result, '6004');
      const callback = await legacyLogin(new Browser(), ningboTax.serviceCode);
      await new Promise((resolve) => setTimeout(resolve, 2200)); // ttl.legacyTicket is 2 s here
      assert.equal((await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: callback.searchParams.get('ticket')! })).json.result, '6004');
    });

    it('6005 an unknown token, and a token of another system', async () => {
      assert.equal((await simpleauth({ method: 'getUserInfo', ...asNingbo(), token: 'B'.repeat(43) })).json.result, '6005');
      const other = signedBy(hangzhouQueue.serviceCode, hangzhouQueue.servicePassword);
      const foreign = await simpleauth({ method: 'getUserInfo', ...other, token });
      assert.equal(foreign.json.result, '6005');
      assertNoPersonalData(foreign.text);
      // Still good for the system that redeemed the ticket.
      assert.equal((await simpleauth({ method: 'getUserInfo', ...asNingbo(), token })).json.result, '0');
    });

    it('6007 a captured time + sign is usable once: not with another st, not for getUserInfo, not re-cased, not by POST (4 replays)', async () => {
      const captured = asNingbo();
      const fresh = (await legacyLogin(new Browser(), ningboTax.serviceCode)).searchParams.get('ticket')!;
      // The legitimate call uses the pair (here with an unknown st: the pair is spent all the same).
      assert.equal((await simpleauth({ method: 'ticketValidation', ...captured, st: 'F'.repeat(43) })).json.result, '6004');
      const replays: Array<[string, Promise<{ json: Record<string, string>; text: string }>]> = [
        ['with another ticket', simpleauth({ method: 'ticketValidation', ...captured, st: fresh })],
        ['with a token', simpleauth({ method: 'getUserInfo', ...captured, token })],
        ['upper-case sign', simpleauth({ method: 'ticketValidation', ...captured, sign: captured.sign.toUpperCase(), st: fresh })],
        ['as a POST form', simpleauth({}, { method: 'POST', body: new URLSearchParams({ method: 'ticketValidation', ...captured, st: fresh }).toString() })],
      ];
      for (const [label, answer] of replays) {
        const { json, text } = await answer;
        assert.equal(json.result, '6007', label);
        assert.equal(json.token, undefined, label);
        assert.equal(json.userid, undefined, label);
        assertNoPersonalData(text);
      }
      // The ticket the replays carried is not used up: a freshly signed call redeems it.
      assert.equal((await simpleauth({ method: 'ticketValidation', ...asNingbo(), st: fresh })).json.result, '0');
    });

    it('counts the calls above in tongban_legacy_ticket_validations_total by province, method and result', async () => {
      const scrape = (await federation.broker.metrics.scrape()).body;
      const count = (result: string) => scrape.split('\n')
        .filter((line) => line.startsWith('tongban_legacy_ticket_validations_total{province="zhejiang",method="ticketValidation",') && line.includes(`result="${result}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      assert.ok(count('ok') >= 1, scrape);
      assert.ok(count('badSign') >= 2, 'the wrong signs above');
      assert.doesNotMatch(scrape, new RegExp(`${ningboTax.servicePassword}|${jiaxingFund.servicePassword}`), 'no service password in a label');
    });

    it('a used sign is refused on every node sharing the store (the replay cache is in the store)', async () => {
      const captured = asNingbo();
      assert.equal((await simpleauth({ method: 'getUserInfo', ...captured, token })).json.result, '0');
      assert.equal(await federation.broker.store.claim(legacyReplayKey('zhejiang', captured.servicecode, captured.time, captured.sign), 60_000), false);
    });

    const malformed: Array<[string, () => Record<string, string>, { method?: 'POST'; body?: string; contentType?: string }?]> = [
      ['no method', () => ({ ...asNingbo(), st: ticket })],
      ['an unknown method', () => ({ method: 'getTicket', ...asNingbo(), st: ticket })],
      ['datatype xml', () => ({ method: 'ticketValidation', ...asNingbo(), datatype: 'xml', st: ticket })],
      ['no servicecode', () => {
        const { servicecode: _omitted, ...rest } = asNingbo();
        return { method: 'ticketValidation', ...rest, st: ticket };
      }],
      ['a servicecode with odd characters', () => ({ method: 'ticketValidation', ...asNingbo(), servicecode: 'nb tax<script>', st: ticket })],
      ['time not yyyyMMddHHmmss', () => ({ method: 'ticketValidation', ...asNingbo(), time: '2027-01-01 08:00:00', st: ticket })],
      ['time not a date (month 13)', () => ({ method: 'ticketValidation', ...asNingbo(), time: '20271301080000', st: ticket })],
      ['no sign', () => ({ method: 'ticketValidation', ...asNingbo(), sign: '', st: ticket })],
      ['a sign that is not MD5 hex', () => ({ method: 'ticketValidation', ...asNingbo(), sign: 'z'.repeat(32), st: ticket })],
      ['no st', () => ({ method: 'ticketValidation', ...asNingbo() })],
      ['an st with odd characters', () => ({ method: 'ticketValidation', ...asNingbo(), st: '../../etc/passwd%00aaaaaaaa' })],
      ['no token', () => ({ method: 'getUserInfo', ...asNingbo() })],
      ['a parameter given twice', () => ({ method: 'ticketValidation', ...asNingbo(), st: ticket }), { method: 'POST', body: `st=${'C'.repeat(43)}` }],
      ['a JSON body', () => ({}), { method: 'POST', body: JSON.stringify({ method: 'ticketValidation', ...asNingbo(), st: ticket }), contentType: 'application/json' }],
      ['an oversized body', () => ({}), { method: 'POST', body: `method=ticketValidation&pad=${'x'.repeat(20_000)}` }],
    ];
    for (const [label, params, init] of malformed) {
      it(`6006 ${label}`, async () => {
        const answer = await simpleauth(params(), init);
        assert.equal(answer.status, 200);
        assert.equal(answer.json.result, '6006');
        assertNoPersonalData(answer.text);
      });
    }
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
  describe('afterwards', () => it('keeps personal data, tickets and tokens out of the logs', async () => {
    const national = federation.simulator.claimsOf('zhangsan');
    const text = JSON.stringify(federation.logger.lines);
    assert.ok(federation.logger.lines.some((line) => line.event === 'legacy_call' && line.result === '6002'));
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
