/**
 * Single logout's durable delivery queue: retries while an app's receiver is down, across a broker
 * restart, with several nodes polling one store, giving up after the configured time; and the
 * configuration keys that tune it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { Browser } from '../support/browser.ts';
import { login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { logoutThrough, portal, receiver, until, type Receiver } from './logout/support.ts';

describe('single logout (end to end)', function () {
  this.timeout(30_000);

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
});
