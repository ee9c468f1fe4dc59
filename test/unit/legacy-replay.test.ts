/**
 * Legacy signatures are usable once (issue 12, item 7): each province keeps its MD5 algorithm, but
 * a captured (service code, time, sign) cannot be replayed, nor combined with another ticket or
 * token, on any node sharing the store. Drives each province's protocol with the broker's own
 * replay cache, on memory, Redis and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { jiangsuLegacy, jiangsuSign } from '../../adapters/jiangsu/legacy.ts';
import type { LegacyBridgeApi, LegacyCaller, LegacyOutcome } from '../../adapters/legacy.ts';
import { zhejiangLegacy, zhejiangSign } from '../../adapters/zhejiang/legacy.ts';
import { legacyReplayKey, legacyReplayMemoryMs, signatureMatches, withinWindow } from '../../broker/legacy/protocol.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { deleteNamespace, newNamespace, postgresUrl, redisUrl } from '../support/nodes.ts';

const password = 'a-service-password-of-some-length';
const ticketA = 'A'.repeat(43);
const ticketB = 'B'.repeat(43);
const tokenA = 'T'.repeat(43);

/** The bridge a province sees, with the broker's replay cache on `store` and two good tickets and one token. */
function bridgeOn(store: Store, province: string, redeemed: string[]): LegacyBridgeApi {
  const caller = (serviceCode: string): LegacyCaller => ({
    serviceCode,
    servicePassword: password,
    async redeemTicket(ticket) {
      if (ticket !== ticketA && ticket !== ticketB) return undefined;
      redeemed.push(ticket);
      return { claims: { userid: 'u1' }, issueToken: async () => tokenA };
    },
    // A token is bound to the system that redeemed its ticket: only `nb-tax` holds one.
    findToken: async (token) => (token === tokenA && serviceCode === 'nb-tax' ? { claims: { userid: 'u1' }, issueToken: async () => tokenA } : undefined),
  });
  return {
    caller: async (serviceCode) => (['nb-tax', 'hz-queue', 'sz-gjj'].includes(serviceCode) ? caller(serviceCode) : undefined),
    isCredential: (value) => /^[A-Za-z0-9_-]{16,128}$/.test(value),
    signatureMatches,
    withinWindow: (epochMs) => withinWindow(epochMs, Date.now()),
    firstUse: (serviceCode, time, sign) => store.claim(legacyReplayKey(province, serviceCode, time, sign), legacyReplayMemoryMs),
  };
}

function beijingTime(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
}

const params = (entries: Record<string, string>) => new Map(Object.entries(entries));

for (const backend of ['memory:', redisUrl, postgresUrl]) {
  describe(`legacy signatures are usable once (${backend.split(':')[0]})`, function () {
    this.timeout(20_000);
    const namespace = newNamespace();
    let nodeA: Store;
    let nodeB: Store;

    before(async () => {
      const logger = createMemoryLogger();
      nodeA = await createStore(backend, { namespace, logger });
      // Two broker nodes on one store (memory: is one process, so the same instance).
      nodeB = backend === 'memory:' ? nodeA : await createStore(backend, { namespace, logger });
    });
    after(async () => {
      if (nodeB !== nodeA) await nodeB?.close();
      await nodeA?.close();
      if (backend !== 'memory:') await deleteNamespace(backend, namespace).catch(() => undefined);
    });

    it('Zhejiang: 6 replays of a captured time + sign are each refused with 6007, on either node, and use up nothing', async () => {
      const redeemed: string[] = [];
      const onA = bridgeOn(nodeA, 'zhejiang', redeemed);
      const onB = bridgeOn(nodeB, 'zhejiang', redeemed);
      const time = beijingTime(-1000);
      const sign = zhejiangSign('nb-tax', password, time);
      const signed = { servicecode: 'nb-tax', time, sign, datatype: 'json' };
      const first = await zhejiangLegacy.call(params({ method: 'ticketValidation', ...signed, st: ticketA }), onA) as LegacyOutcome & { fields?: Record<string, string> };
      assert.equal(first.result, 'ok');
      assert.equal(first.fields?.token, tokenA);
      const replays: Array<[string, LegacyBridgeApi, Record<string, string>]> = [
        ['the same call again', onA, { method: 'ticketValidation', ...signed, st: ticketA }],
        ['another ticket', onA, { method: 'ticketValidation', ...signed, st: ticketB }],
        ['another ticket, on the other node', onB, { method: 'ticketValidation', ...signed, st: ticketB }],
        ['getUserInfo with the token', onB, { method: 'getUserInfo', ...signed, token: tokenA }],
        ['the sign in upper case', onA, { method: 'ticketValidation', ...signed, sign: sign.toUpperCase(), st: ticketB }],
        ['without datatype', onB, { method: 'getUserInfo', servicecode: 'nb-tax', time, sign, token: tokenA }],
      ];
      for (const [label, bridge, call] of replays) {
        const outcome = await zhejiangLegacy.call(params(call), bridge);
        assert.equal(outcome.result, 'replayedSign', label);
        assert.equal(zhejiangLegacy.respond(outcome).code, '6007', label);
        assert.equal('fields' in outcome ? outcome.fields : undefined, undefined, label);
      }
      assert.deepEqual(redeemed, [ticketA], 'no replay reached a ticket');
      // A fresh signature works, and the token stays bound to the system that redeemed the ticket.
      const fresh = beijingTime(-2000);
      const own = await zhejiangLegacy.call(params({ method: 'getUserInfo', servicecode: 'nb-tax', time: fresh, sign: zhejiangSign('nb-tax', password, fresh), token: tokenA }), onB);
      assert.equal(own.result, 'ok');
      const other = await zhejiangLegacy.call(params({ method: 'getUserInfo', servicecode: 'hz-queue', time: fresh, sign: zhejiangSign('hz-queue', password, fresh), token: tokenA }), onB);
      assert.equal(other.result, 'badToken', 'a token used by another servicecode is refused');
    });

    it('Zhejiang: a wrong or stale sign claims nothing (2 inputs), so it cannot burn a system\'s next call', async () => {
      const onA = bridgeOn(nodeA, 'zhejiang', []);
      // Two minutes back: a second apart from the earlier tests' times (-1 s, -2 s), the same signed
      // second could be theirs when a test runs a second after the one before it.
      const time = beijingTime(-120_000);
      const sign = zhejiangSign('nb-tax', password, time);
      const wrong = await zhejiangLegacy.call(params({ method: 'ticketValidation', servicecode: 'nb-tax', time, sign: zhejiangSign('nb-tax', 'not-the-password', time), st: ticketA }), onA);
      assert.equal(wrong.result, 'badSign');
      const stale = beijingTime(-6 * 60_000);
      assert.equal((await zhejiangLegacy.call(params({ method: 'ticketValidation', servicecode: 'nb-tax', time: stale, sign: zhejiangSign('nb-tax', password, stale), st: ticketA }), onA)).result, 'staleTime');
      assert.equal((await zhejiangLegacy.call(params({ method: 'ticketValidation', servicecode: 'nb-tax', time, sign, st: ticketB }), onA)).result, 'ok');
    });

    it('Jiangsu: 3 replays of a captured timestamp + app_sign are each refused with 1007, and use up nothing', async () => {
      const redeemed: string[] = [];
      const onA = bridgeOn(nodeA, 'jiangsu', redeemed);
      const onB = bridgeOn(nodeB, 'jiangsu', redeemed);
      const timestamp = String(Date.now() - 1000);
      const signed = { app_id: 'sz-gjj', timestamp, app_sign: jiangsuSign('sz-gjj', password, timestamp) };
      assert.equal((await jiangsuLegacy.call(params({ ...signed, ticket: ticketA }), onA)).result, 'ok');
      for (const [label, bridge, call] of [
        ['the same call again', onA, { ...signed, ticket: ticketA }],
        ['another ticket, on the other node', onB, { ...signed, ticket: ticketB }],
        ['app_sign in upper case', onB, { ...signed, app_sign: signed.app_sign.toUpperCase(), ticket: ticketB }],
      ] as const) {
        const outcome = await jiangsuLegacy.call(params(call), bridge);
        assert.equal(outcome.result, 'replayedSign', label);
        assert.equal(jiangsuLegacy.respond(outcome).code, '1007', label);
        assert.equal(jiangsuLegacy.respond(outcome).body.data, undefined, label);
      }
      assert.deepEqual(redeemed, [ticketA]);
    });

    it('the same time and sign of another province or service is no replay (separate keys)', async () => {
      const key = legacyReplayKey('zhejiang', 'nb-tax', '20270101080000', 'a'.repeat(32));
      assert.notEqual(key, legacyReplayKey('jiangsu', 'nb-tax', '20270101080000', 'a'.repeat(32)));
      assert.notEqual(key, legacyReplayKey('zhejiang', 'hz-queue', '20270101080000', 'a'.repeat(32)));
      assert.equal(key, legacyReplayKey('zhejiang', 'nb-tax', '20270101080000', 'A'.repeat(32)));
      assert.ok(!key.includes('20270101080000') && !key.includes('a'.repeat(32)), 'the store key holds no signed value');
      assert.ok(legacyReplayMemoryMs >= 10 * 60_000, 'remembered for the whole ±5 minute window');
    });
  });
}
