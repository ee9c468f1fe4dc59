/**
 * One bad logout endpoint delays no one else (broker/logout/queue.ts, destinations.ts): with 500
 * deliveries pending to an endpoint that never answers, a healthy app's delivery still arrives
 * within 10 s, and the bad endpoint's circuit opens.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDeliveryQueue, DeliveryFailure, type Deliver, type DeliveryQueue } from '../../broker/logout/queue.ts';
import { createDestinationGate } from '../../broker/logout/destinations.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import { createLogger } from '../../broker/platform/log.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`;
}

describe('back-channel logout queue: one bad endpoint', function () {
  this.timeout(30_000);
  let silent: Server;
  let healthy: Server;
  let queue: DeliveryQueue | undefined;
  const arrived: number[] = [];
  let silentHits = 0;
  const urls: Record<string, string> = {};

  before(async () => {
    // Takes the request and never answers.
    silent = createServer(() => { silentHits += 1; });
    healthy = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrived.push(Date.now());
        res.writeHead(200).end();
      });
    });
    urls['app-hanging'] = await listen(silent);
    urls['app-healthy'] = await listen(healthy);
  });
  after(async () => {
    await queue?.stop();
    for (const server of [silent, healthy]) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('delivers to a healthy app within 10 s while 500 deliveries to a hanging one are pending', async () => {
    const deliveryTimeoutMs = 2000;
    const deliver: Deliver = async (delivery) => {
      let response: Response;
      try {
        response = await fetch(urls[delivery.clientId]!, { method: 'POST', body: 'logout_token=x', signal: AbortSignal.timeout(deliveryTimeoutMs) });
      } catch (error) {
        throw new DeliveryFailure('timeout', { cause: error });
      }
      await response.body?.cancel();
      if (response.status !== 200) throw new DeliveryFailure(`http_${response.status}`);
    };
    const store = createMemoryStore();
    queue = createDeliveryQueue({
      store,
      logger: createLogger({ level: 'error' }),
      settings: { giveUpAfterSeconds: 3600, firstRetryDelayMs: 100, maxRetryDelayMs: 1000, pollIntervalMs: 200, deliveryTimeoutMs, givenUpRetentionSeconds: 3600 },
      deliver,
    });
    for (let i = 0; i < 500; i += 1) await queue.enqueue({ clientId: 'app-hanging', accountId: `account-${i}` });
    queue.start();
    await sleep(500);
    const queuedAt = Date.now();
    await queue.enqueue({ clientId: 'app-healthy', accountId: 'account-healthy' });
    while (arrived.length === 0 && Date.now() - queuedAt < 10_000) await sleep(50);
    assert.equal(arrived.length, 1, 'the healthy app received its logout token');
    assert.ok(arrived[0]! - queuedAt < 10_000, `arrived after ${arrived[0]! - queuedAt} ms`);
    // The hanging endpoint is held to a few attempts at once, not the node's whole capacity.
    assert.ok(silentHits <= 2, `the hanging endpoint saw ${silentHits} concurrent attempts`);
    assert.equal((await queue.pending()).filter((d) => d.clientId === 'app-healthy').length, 0);
  });
});

describe('logout destination circuit breaker', () => {
  it('opens after repeated failures, lets one probe through after the pause, closes on success', () => {
    let clock = 0;
    const gate = createDestinationGate({ perDestination: 2, failureThreshold: 3, openMs: 1000, maxOpenMs: 4000, now: () => clock });
    assert.equal(gate.tryAcquire('a'), true);
    assert.equal(gate.tryAcquire('a'), true);
    assert.equal(gate.tryAcquire('a'), false, 'two at once per destination');
    assert.equal(gate.tryAcquire('b'), true, 'other destinations are not held up');
    gate.release('a', false);
    gate.release('a', false);
    assert.equal(gate.tryAcquire('a'), true);
    gate.release('a', false);
    assert.equal(gate.state('a'), 'open');
    assert.equal(gate.tryAcquire('a'), false);
    clock = 1000;
    assert.equal(gate.state('a'), 'half-open');
    assert.equal(gate.tryAcquire('a'), true, 'one probe');
    assert.equal(gate.tryAcquire('a'), false, 'only one probe');
    gate.release('a', false);
    clock = 2999;
    assert.equal(gate.state('a'), 'open', 'a failed probe doubles the pause');
    clock = 3000;
    assert.equal(gate.tryAcquire('a'), true);
    gate.release('a', true);
    assert.equal(gate.state('a'), 'closed');
    assert.equal(gate.tryAcquire('a'), true);
  });
});
