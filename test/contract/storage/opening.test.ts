/**
 * Opening stores and living through outages: unknown schemes and unreachable servers are refused
 * promptly, and a store whose server goes away rejects every call promptly and resumes by itself.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryLogger } from '../../../broker/platform/log.ts';
import { newNamespace } from '../../../broker/platform/storage/conformance.ts';
import { createStore } from '../../../broker/platform/storage/index.ts';
import type { Store } from '../../../broker/platform/storage/types.ts';
import { deleteRedisKeys, postgresBackend, redisUrl } from './backends.ts';

async function rejectsWithin(promise: Promise<unknown>, limitMs: number, label: string): Promise<void> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(() => 'resolved', () => 'rejected'),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('pending'), limitMs);
    }),
  ]);
  clearTimeout(timer);
  assert.equal(outcome, 'rejected', `${label} should reject within ${limitMs} ms, was ${outcome} after ${Date.now() - started} ms`);
}

describe('storage: opening', () => {
  it('rejects an unknown scheme and a bad namespace', async () => {
    await assert.rejects(createStore('mysql://localhost/x'), /unknown store URL scheme/);
    await assert.rejects(createStore('memory:', { namespace: 'has space' }), /namespace/);
    await assert.rejects(createStore('sqlite::memory:'), /file path/);
  });

  for (const url of ['redis://127.0.0.1:1', 'redis+cluster://127.0.0.1:1,127.0.0.1:2', 'postgres://postgres@127.0.0.1:1/test']) {
    it(`rejects promptly when ${url} is unreachable`, async () => {
      await rejectsWithin(createStore(url, { namespace: newNamespace() }), 5_000, `createStore(${url})`);
    });
  }
});

/** A TCP relay in front of a real server, to cut the store off and bring it back. */
async function startRelay(targetPort: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((incoming) => {
    const outgoing = net.connect(targetPort, '127.0.0.1');
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    incoming.pipe(outgoing).pipe(incoming);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    restore: () => listen(port),
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    }),
  };
}

for (const { name, port, url } of [
  { name: 'redis', port: 6379, url: (relayPort: number) => `redis://127.0.0.1:${relayPort}` },
  { name: 'postgres', port: 5432, url: (relayPort: number) => `postgres://postgres@127.0.0.1:${relayPort}/test` },
]) {
  describe(`storage outage: ${name}`, function outageSuite() {
    this.timeout(20_000);
    const namespace = newNamespace();
    const logger = createMemoryLogger();
    let relay: Awaited<ReturnType<typeof startRelay>>;
    let store: Store;

    before(async () => {
      relay = await startRelay(port);
      store = await createStore(url(relay.port), { namespace, logger });
    });

    after(async () => {
      await store?.close();
      await relay?.close();
      if (name === 'redis') await deleteRedisKeys(redisUrl, namespace);
      else await postgresBackend().cleanup?.(namespace);
    });

    it('rejects every call promptly while the server is unreachable, and resumes by itself', async () => {
      await store.set('k', 'before', 60_000);
      await store.addToSet('s', 'before', 60_000);
      assert.equal(await store.get('k'), 'before');

      await relay.cut();
      await sleep(50);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['get', () => store.get('k')],
        ['getMany', () => store.getMany(['k', 'j'])],
        ['set', () => store.set('k', 'during', 60_000)],
        ['delete', () => store.delete('k')],
        ['claim', () => store.claim('c', 60_000)],
        ['addToSet', () => store.addToSet('s', 'during', 60_000)],
        ['removeFromSet', () => store.removeFromSet('s', 'before')],
        ['members', () => store.members('s')],
        ['deleteSet', () => store.deleteSet('s')],
        ['ping', () => store.ping()],
      ];
      for (const [label, call] of calls) await rejectsWithin(call(), 2_000, label);

      await relay.restore();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await store.ping();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(100);
        }
      }
      assert.equal(await store.get('k'), 'before');
      assert.deepEqual(await store.members('s'), ['before']);
      assert.equal(await store.claim('c', 60_000), true);
      assert.ok(logger.lines.some((line) => line.event === 'storage.unavailable' && line.backend === name), 'outage logged');
    });
  });
}
