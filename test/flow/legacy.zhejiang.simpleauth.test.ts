/**
 * The Zhejiang legacy bridge's `simpleauth` servlet end to end: ticketValidation and getUserInfo
 * signed by a system, every documented failure code (6001-6007) and never a 500, the replay cache
 * in the shared store, the metrics, and nothing personal in the logs.
 */
import assert from 'node:assert/strict';
import { legacyReplayKey } from '../../broker/legacy/protocol.ts';
import { Browser } from '../support/browser.ts';
import type { Federation } from '../support/federation.ts';
import type { ZhejiangLegacySystem } from '../fixtures/zhejiang-legacy-system.ts';
import { beijingTime, hangzhouQueue, jiaxingFund, ningboTax, useZhejiangBridge } from './legacy.zhejiang/support.ts';

describe('Zhejiang legacy bridge (sso/usp.do, simpleauth)', function () {
  this.timeout(30_000);
  const bridge = useZhejiangBridge();
  const { legacyLogin, simpleauth, signedBy, asNingbo, assertNoPersonalData } = bridge;
  let federation: Federation;
  let system: ZhejiangLegacySystem;
  let zj: string;
  before(() => ({ federation, system, zj } = bridge));

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
