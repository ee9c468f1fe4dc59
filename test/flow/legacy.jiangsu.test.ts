/**
 * The Jiangsu legacy ticket bridge end to end: `auth/login.do` through the broker and the national
 * platform, `auth/ticketValidate.do` with an MD5 `app_sign`, and every documented failure.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredLegacySystem } from '../../config/defaults.ts';
import { Browser } from '../support/browser.ts';
import { acceptConsent, startFederation, type Federation } from '../support/federation.ts';

const unserved = 'http://127.0.0.1:9';
const suzhouFund: ConfiguredLegacySystem = {
  province: 'jiangsu',
  city: '320500',
  serviceCode: 'sz-gjj',
  name: '苏州公积金',
  callbackUrl: `${unserved}/sz-gjj/callback`,
  servicePassword: 'sz-gjj-app-secret-2027-xyz',
  scopes: ['profile', 'phone', 'id_number'],
};
const nanjingQueue: ConfiguredLegacySystem = {
  province: 'jiangsu',
  city: '320100',
  serviceCode: 'nj-queue',
  name: '南京排队叫号',
  callbackUrl: `${unserved}/nj-queue/callback`,
  servicePassword: 'nj-queue-app-secret-2027-xyz',
  scopes: [],
};
const hangzhouQueue: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330100',
  serviceCode: 'hz-queue',
  name: '杭州排队叫号',
  callbackUrl: `${unserved}/hz-queue/callback`,
  servicePassword: 'hz-queue-service-password',
  scopes: [],
};

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('Jiangsu legacy bridge (auth/login.do, auth/ticketValidate.do)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let js: string;

  before(async () => {
    federation = await startFederation({ clients: [], overrides: { legacySystems: [suzhouFund, nanjingQueue, hangzhouQueue] } });
    js = `${federation.issuer}/js`;
  });
  after(async () => federation?.stop());

  async function loginAt(browser: Browser, entry: string): Promise<URL> {
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    let page = await browser.follow(entry, { stopAt });
    if (page.status === 200 && /name="password"/.test(page.body)) {
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
    }
    page = await acceptConsent(browser, page, stopAt);
    assert.ok(page.location?.startsWith(unserved), `login did not reach the callback: ${page.status} ${page.url}`);
    return new URL(page.location!);
  }
  const jiangsuLogin = (browser: Browser, appId: string, returnUrl?: string) =>
    loginAt(browser, `${js}/auth/login.do?${new URLSearchParams({ app_id: appId, ...(returnUrl ? { return_url: returnUrl } : {}) })}`);

  // An (app_id, timestamp, app_sign) is accepted once: each call here signs a millisecond not used before.
  const usedTimestamps = new Set<string>();
  const signed = (system: ConfiguredLegacySystem, offsetMs = 0) => {
    let at = Date.now() + offsetMs;
    while (usedTimestamps.has(`${system.serviceCode} ${at}`)) at -= 1;
    usedTimestamps.add(`${system.serviceCode} ${at}`);
    const timestamp = String(at);
    return { app_id: system.serviceCode, timestamp, app_sign: md5(system.serviceCode + system.servicePassword + timestamp) };
  };

  async function ticketValidate(params: Record<string, string>, method: 'GET' | 'POST' = 'GET') {
    const query = new URLSearchParams(params).toString();
    const response = method === 'GET'
      ? await fetch(`${js}/auth/ticketValidate.do?${query}`)
      : await fetch(`${js}/auth/ticketValidate.do`, { method: 'POST', body: query, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as { code: string; msg: string; data?: Record<string, unknown> } };
  }

  function assertNoPersonalData(text: string) {
    const national = federation.simulator.claimsOf('zhangsan');
    for (const value of [national.name, national.cert_no, national.phone_number]) assert.ok(!text.includes(String(value)));
  }

  it('logs in through the national platform; ticketValidate.do answers the Jiangsu dialect field by field', async () => {
    const callback = await jiangsuLogin(new Browser(), suzhouFund.serviceCode, 'https://gjj.suzhou.example/query');
    assert.equal(callback.origin + callback.pathname, suzhouFund.callbackUrl);
    assert.equal(callback.searchParams.get('return_url'), 'https://gjj.suzhou.example/query', 'echoed, never followed');
    const answer = await ticketValidate({ ...signed(suzhouFund), ticket: callback.searchParams.get('ticket')! }, 'POST');
    assert.equal(answer.status, 200);
    assert.equal(answer.json.code, '0');
    const national = federation.simulator.claimsOf('zhangsan');
    const certNo = String(national.cert_no);
    const data = answer.json.data!;
    assert.deepEqual(data, {
      userId: data.userId,
      userType: 1,
      authLevel: 1, // broker level 3 (advanced real-name) is Jiangsu 1 (实名)
      realName: national.name,
      sex: Number(certNo[16]) % 2 === 1 ? '男' : '女',
      birthday: certNo.slice(6, 14),
      mobile: national.phone_number,
      papersType: '01',
      papersNumber: certNo,
    });
    assert.match(String(data.userId), /^[A-Za-z0-9_-]{43}$/);
  });

  it('the Jiangsu userId is stable across logins and differs from the Zhejiang userid', async () => {
    const first = await jiangsuLogin(new Browser(), suzhouFund.serviceCode);
    const second = await jiangsuLogin(new Browser(), suzhouFund.serviceCode);
    const a = await ticketValidate({ ...signed(suzhouFund), ticket: first.searchParams.get('ticket')! });
    const b = await ticketValidate({ ...signed(suzhouFund), ticket: second.searchParams.get('ticket')! });
    assert.equal(a.json.data!.userId, b.json.data!.userId);

    const zhejiang = await loginAt(new Browser(), `${federation.issuer}/zj/sso/usp.do?action=ssoLogin&servicecode=hz-queue`);
    const time = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace(/\D/g, '');
    const zjParams = new URLSearchParams({
      method: 'ticketValidation', servicecode: 'hz-queue', time, sign: md5(`hz-queue${hangzhouQueue.servicePassword}${time}`), st: zhejiang.searchParams.get('ticket')!, datatype: 'json',
    });
    const zj = await (await fetch(`${federation.issuer}/zj/sso/servlet/simpleauth?${zjParams}`)).json() as Record<string, string>;
    assert.equal(zj.result, '0');
    assert.notEqual(zj.userid, a.json.data!.userId, 'provincial user ids are per province');
  });

  it('releases only what the app is registered for', async () => {
    const callback = await jiangsuLogin(new Browser(), nanjingQueue.serviceCode);
    const answer = await ticketValidate({ ...signed(nanjingQueue), ticket: callback.searchParams.get('ticket')! });
    assert.equal(answer.json.code, '0');
    assert.deepEqual(Object.keys(answer.json.data!).sort(), ['authLevel', 'userId', 'userType']);
    assertNoPersonalData(answer.text);
  });

  describe('bad input: each failure its documented code, never a 500', () => {
    let ticket: string;
    before(async () => {
      ticket = (await jiangsuLogin(new Browser(), suzhouFund.serviceCode)).searchParams.get('ticket')!;
    });

    const cases: Array<[string, string, () => Record<string, string>]> = [
      ['an unknown app_id', '1001', () => ({ ...signed({ ...suzhouFund, serviceCode: 'no-such-app' }), ticket })],
      ['a Zhejiang servicecode as app_id', '1001', () => ({ ...signed(hangzhouQueue), ticket })],
      ['a wrong app_secret', '1002', () => ({ ...signed({ ...suzhouFund, servicePassword: 'not-the-app-secret-000' }), ticket })],
      ['a sign over another timestamp', '1002', () => ({ ...signed(suzhouFund), timestamp: String(Date.now() - 1000), ticket })],
      ['a stale timestamp', '1003', () => ({ ...signed(suzhouFund, -6 * 60_000), ticket })],
      ['a future timestamp', '1003', () => ({ ...signed(suzhouFund, 6 * 60_000), ticket })],
      ['an unknown ticket', '1004', () => ({ ...signed(suzhouFund), ticket: 'E'.repeat(43) })],
      ['a ticket of another app', '1004', () => ({ ...signed(nanjingQueue), ticket })],
      ['no app_id', '1006', () => ({ timestamp: String(Date.now()), app_sign: 'a'.repeat(32), ticket })],
      ['a timestamp in seconds', '1006', () => ({ ...signed(suzhouFund), timestamp: String(Math.floor(Date.now() / 1000)), ticket })],
      ['an app_sign that is not MD5 hex', '1006', () => ({ ...signed(suzhouFund), app_sign: 'not-a-sign', ticket })],
      ['no ticket', '1006', () => signed(suzhouFund)],
    ];
    for (const [label, code, params] of cases) {
      it(`${code} ${label}`, async () => {
        const answer = await ticketValidate(params());
        assert.equal(answer.status, 200);
        assert.equal(answer.json.code, code);
        assert.ok(answer.json.msg);
        assert.equal(answer.json.data, undefined);
        assertNoPersonalData(answer.text);
      });
    }

    it('the ticket survived the refused calls, works once, then 1004', async () => {
      assert.equal((await ticketValidate({ ...signed(suzhouFund), ticket })).json.code, '0');
      assert.equal((await ticketValidate({ ...signed(suzhouFund), ticket })).json.code, '1004');
    });

    it('1007 a captured timestamp + app_sign is usable once, with no other ticket (2 replays)', async () => {
      const captured = signed(suzhouFund);
      assert.equal((await ticketValidate({ ...captured, ticket: 'G'.repeat(43) })).json.code, '1004');
      const fresh = (await jiangsuLogin(new Browser(), suzhouFund.serviceCode)).searchParams.get('ticket')!;
      for (const method of ['GET', 'POST'] as const) {
        const replay = await ticketValidate({ ...captured, ticket: fresh }, method);
        assert.equal(replay.json.code, '1007', method);
        assert.equal(replay.json.data, undefined);
      }
      assert.equal((await ticketValidate({ ...signed(suzhouFund), ticket: fresh })).json.code, '0', 'the replays did not use the ticket up');
    });

    it('a Zhejiang ticket is no Jiangsu ticket', async () => {
      const zhejiang = await loginAt(new Browser(), `${federation.issuer}/zj/sso/usp.do?action=ssoLogin&servicecode=hz-queue`);
      assert.equal((await ticketValidate({ ...signed(suzhouFund), ticket: zhejiang.searchParams.get('ticket')! })).json.code, '1004');
    });

    it('the login entry: unknown or missing app_id is a page, no redirect', async () => {
      for (const [query, code] of [['app_id=no-such-app', 'legacy_unknown_system'], ['return_url=/x', 'legacy_invalid_request'], ['app_id=hz-queue', 'legacy_unknown_system']] as const) {
        const page = await new Browser().get(`${js}/auth/login.do?${query}`);
        assert.equal(page.status, 400);
        assert.equal(page.location, undefined);
        assert.match(page.body, new RegExp(code));
      }
    });
  });
});
