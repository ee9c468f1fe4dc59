/**
 * One storage contract, run against every backend. Redis and PostgreSQL are the real servers
 * (127.0.0.1:6379, 127.0.0.1:5432): when they are down these tests fail, they do not skip.
 * The Redis Cluster is started for the run from the `redis-server` binary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { startRedisCluster, type RedisCluster } from '../../scripts/dev/processes.ts';

const redisUrl = 'redis://127.0.0.1:6379';
const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

const newNamespace = () => `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Counts rows of a namespace straight from the SQL tables, bypassing the store. */
type RowCounter = (namespace: string) => Promise<{ records: number; claims: number; sets: number; members: number }>;

interface Backend {
  readonly name: string;
  /** Two store instances share data (false for memory: one process, one Map). */
  readonly shared: boolean;
  url(): Promise<string>;
  counter?(): Promise<{ count: RowCounter; close(): Promise<void> }>;
  cleanup?(namespace: string): Promise<void>;
  teardown?(): Promise<void>;
}

const countSql = {
  records: 'SELECT count(*) AS n FROM tongban_records WHERE key LIKE ?',
  claims: 'SELECT count(*) AS n FROM tongban_claims WHERE key LIKE ?',
  sets: 'SELECT count(*) AS n FROM tongban_sets WHERE key LIKE ?',
  members: 'SELECT count(*) AS n FROM tongban_set_members WHERE set_key LIKE ?',
};

function sqliteBackend(): Backend {
  let dir: string | undefined;
  const path = () => {
    dir ??= mkdtempSync(join(tmpdir(), 'tongban-storage-'));
    return join(dir, 'nested', 'store.sqlite');
  };
  return {
    name: 'sqlite',
    shared: true,
    url: async () => `sqlite:${path()}`,
    async counter() {
      const db = await new Promise<sqlite3.Database>((resolve, reject) => {
        const opened = new sqlite3.Database(path(), (error) => (error ? reject(error) : resolve(opened)));
      });
      const one = (sql: string, namespace: string) => new Promise<number>((resolve, reject) => {
        db.get(sql, [`${namespace}:%`], (error: Error | null, row: { n: number }) => (error ? reject(error) : resolve(row.n)));
      });
      return {
        count: async (namespace) => ({
          records: await one(countSql.records, namespace),
          claims: await one(countSql.claims, namespace),
          sets: await one(countSql.sets, namespace),
          members: await one(countSql.members, namespace),
        }),
        close: () => new Promise<void>((resolve) => db.close(() => resolve())),
      };
    },
    async teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const query = async (sql: string, values: unknown[]) => {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    try {
      return await pool.query<{ n: string }>(sql, values);
    } finally {
      await pool.end();
    }
  };
  return {
    name: 'postgres',
    shared: true,
    url: async () => postgresUrl,
    async counter() {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
      const one = async (sql: string, namespace: string) =>
        Number((await pool.query<{ n: string }>(sql.replace('?', '$1'), [`${namespace}:%`])).rows[0]?.n);
      return {
        count: async (namespace) => ({
          records: await one(countSql.records, namespace),
          claims: await one(countSql.claims, namespace),
          sets: await one(countSql.sets, namespace),
          members: await one(countSql.members, namespace),
        }),
        close: () => pool.end(),
      };
    },
    async cleanup(namespace) {
      for (const table of ['tongban_records', 'tongban_claims', 'tongban_sets']) {
        await query(`DELETE FROM ${table} WHERE key LIKE $1`, [`${namespace}:%`]);
      }
      await query('DELETE FROM tongban_set_members WHERE set_key LIKE $1', [`${namespace}:%`]);
    },
  };
}

async function deleteRedisKeys(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

/** A throwaway three-master Redis Cluster on free ports (test/support/processes.ts). */
function redisClusterBackend(): Backend {
  let started: Promise<RedisCluster> | undefined;
  return {
    name: 'redis-cluster',
    shared: true,
    url: async () => (await (started ??= startRedisCluster())).url,
    async teardown() {
      await (await started?.catch(() => undefined))?.stop();
    },
  };
}

const backends: Backend[] = [
  { name: 'memory', shared: false, url: async () => 'memory:' },
  sqliteBackend(),
  { name: 'redis', shared: true, url: async () => redisUrl, cleanup: (namespace) => deleteRedisKeys(redisUrl, namespace) },
  postgresBackend(),
  redisClusterBackend(),
];

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

const sorted = (values: string[]) => [...values].sort();

function storeContract(backend: Backend): void {
  describe(`storage contract: ${backend.name}`, function storageSuite() {
    this.timeout(20_000);
    const namespace = newNamespace();
    let a: Store;
    let b: Store;

    before(async function open() {
      let url: string;
      try {
        url = await backend.url();
      } catch (error) {
        // Only the throwaway cluster depends on a local binary; the shared servers never skip.
        if (backend.name === 'redis-cluster' && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          console.warn('    redis-server binary not found: Redis Cluster contract not run');
          this.skip();
        }
        throw error;
      }
      a = await createStore(url, { namespace });
      b = backend.shared ? await createStore(url, { namespace }) : a;
    });

    after(async () => {
      await a?.close();
      if (b !== a) await b?.close();
      await backend.cleanup?.(namespace);
      await backend.teardown?.();
    });

    it('reports its kind and answers ping', async () => {
      assert.equal(a.kind, backend.name);
      await a.ping();
    });

    it('round-trips records through get, set, getMany and delete', async () => {
      const value = { text: '通办', colon: ':leading colon', nested: { list: [1, 'two', null, true] }, n: 3.5 };
      await a.set('record:one', value);
      assert.deepEqual(await b.get('record:one'), value);
      assert.equal(await a.get('record:absent'), undefined);

      await a.set('record:one', { replaced: true });
      assert.deepEqual(await b.get('record:one'), { replaced: true });
      await a.set('record:two', 'plain string');

      assert.deepEqual(await b.getMany(['record:two', 'record:absent', 'record:one']), ['plain string', undefined, { replaced: true }]);
      assert.deepEqual(await a.getMany([]), []);

      assert.equal(await b.delete('record:one'), true);
      assert.equal(await a.get('record:one'), undefined);
      assert.equal(await a.delete('record:one'), false);
      assert.equal(await a.delete('record:two'), true);
    });

    it('keeps namespaces apart', async () => {
      const other = await createStore(await backend.url(), { namespace: newNamespace() });
      try {
        await a.set('isolated', 'mine', 60_000);
        assert.equal(await a.claim('isolated-claim', 60_000), true);
        await a.addToSet('isolated-set', 'member', 60_000);
        assert.equal(await other.get('isolated'), undefined);
        assert.equal(await other.claim('isolated-claim', 60_000), true);
        assert.deepEqual(await other.members('isolated-set'), []);
      } finally {
        await other.close();
      }
    });

    it('expires records after their TTL, and keeps records without one', async () => {
      await Promise.all([a.set('ttl:short', 'soon gone', 99.5), a.set('ttl:long', 'stays', 60_000), a.set('ttl:none', 'forever')]);
      assert.equal(await b.get('ttl:short'), 'soon gone');
      await sleep(200);
      assert.equal(await b.get('ttl:short'), undefined);
      assert.deepEqual(await b.getMany(['ttl:short', 'ttl:long', 'ttl:none']), [undefined, 'stays', 'forever']);
      await a.delete('ttl:none');
    });

    it('refuses a TTL that is not a positive number (keyv would read 0 as forever)', async () => {
      await assert.rejects(a.set('bad', 1, 0), RangeError);
      await assert.rejects(a.set('bad', 1, -5), RangeError);
      await assert.rejects(a.set('bad', 1, Number.NaN), RangeError);
      await assert.rejects(a.claim('bad', 0), RangeError);
      await assert.rejects(a.addToSet('bad', 'm', 0), RangeError);
      assert.equal(await a.get('bad'), undefined);
    });

    it('grants a claim exactly once when two stores race 50 parallel claims', async () => {
      for (let round = 0; round < 3; round += 1) {
        const key = `race:${round}`;
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).claim(key, 60_000)));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.filter(Boolean).length} winners`);
      }
      assert.equal(await a.claim('race:other-key', 60_000), true);
    });

    it('grants a claim again once its TTL has passed', async () => {
      assert.equal(await a.claim('again', 100), true);
      assert.equal(await b.claim('again', 100), false);
      await sleep(200);
      assert.equal(await b.claim('again', 60_000), true);
      assert.equal(await a.claim('again', 100), false);
    });

    it('adds, lists, removes and deletes set members', async () => {
      await a.addToSet('set:plain', 'm1', 60_000);
      await b.addToSet('set:plain', 'm2', 60_000);
      await a.addToSet('set:plain', 'm2', 60_000);
      await a.addToSet('set:plain', 'AccessToken:abc', 60_000);
      assert.deepEqual(sorted(await b.members('set:plain')), ['AccessToken:abc', 'm1', 'm2']);
      await b.removeFromSet('set:plain', 'm1');
      await b.removeFromSet('set:plain', 'not-a-member');
      assert.deepEqual(sorted(await a.members('set:plain')), ['AccessToken:abc', 'm2']);
      await a.deleteSet('set:plain');
      assert.deepEqual(await b.members('set:plain'), []);
      assert.deepEqual(await a.members('set:never-written'), []);
      await a.removeFromSet('set:never-written', 'x');
      await a.deleteSet('set:never-written');
    });

    it('loses no member when two stores add 40 members at once', async () => {
      const members = Array.from({ length: 40 }, (_, i) => `member-${i}`);
      await Promise.all(members.map((member, i) => (i % 2 === 0 ? a : b).addToSet('set:concurrent', member, 60_000)));
      assert.deepEqual(sorted(await a.members('set:concurrent')), sorted(members));
      await a.deleteSet('set:concurrent');
    });

    it('expires sets, only ever extends their expiry, and does not revive old members', async () => {
      // Lifetimes long enough that the second writes land before the first expire on a loaded machine.
      const short = 300;
      await Promise.all([
        a.addToSet('set:expires', 'm', short),
        a.addToSet('set:extended', 'first', short),
        a.addToSet('set:not-shortened', 'first', 60_000),
        a.addToSet('set:made-permanent', 'first', short),
        a.addToSet('set:revived', 'old', short),
      ]);
      await Promise.all([
        b.addToSet('set:extended', 'second', 60_000),
        b.addToSet('set:not-shortened', 'second', short),
        b.addToSet('set:made-permanent', 'second'),
      ]);
      assert.deepEqual(await b.members('set:expires'), ['m']);
      await sleep(short + 150);
      assert.deepEqual(await a.members('set:expires'), []);
      assert.deepEqual(sorted(await a.members('set:extended')), ['first', 'second']);
      assert.deepEqual(sorted(await a.members('set:not-shortened')), ['first', 'second']);
      assert.deepEqual(sorted(await a.members('set:made-permanent')), ['first', 'second']);
      await b.addToSet('set:revived', 'new', 60_000);
      assert.deepEqual(await a.members('set:revived'), ['new']);
      await Promise.all(['set:extended', 'set:not-shortened', 'set:made-permanent', 'set:revived'].map((key) => a.deleteSet(key)));
    });

    it('sweeps expired rows (checked in the tables themselves on SQL backends)', async () => {
      const sweepNamespace = newNamespace();
      const store = await createStore(await backend.url(), { namespace: sweepNamespace });
      const counter = await backend.counter?.();
      // A second member must join each set before it expires (else it starts a new generation and the
      // first is an orphan the sweep leaves for a minute): a lifetime a loaded machine still meets.
      const short = 300;
      try {
        await Promise.all([
          ...Array.from({ length: 5 }, (_, i) => store.set(`gone:${i}`, { i }, short)),
          ...Array.from({ length: 5 }, (_, i) => store.claim(`gone:${i}`, short)),
          ...Array.from({ length: 5 }, (_, i) => store.addToSet(`gone:${i}`, 'x', short)),
          store.set('live:record', 'kept'),
          store.set('live:expiring', 'kept', 60_000),
          store.claim('live:claim', 60_000),
          store.addToSet('live:set', 'kept', 60_000),
        ]);
        await Promise.all(Array.from({ length: 5 }, (_, i) => store.addToSet(`gone:${i}`, 'y', short)));
        await sleep(short + 100);
        if (counter) {
          assert.deepEqual(await counter.count(sweepNamespace), { records: 7, claims: 6, sets: 6, members: 11 });
        }
        const removed = await store.sweep();
        assert.equal(typeof removed, 'number');
        if (counter) {
          assert.ok(removed >= 5 + 5 + 5 + 10, `removed ${removed}`);
          assert.deepEqual(await counter.count(sweepNamespace), { records: 2, claims: 1, sets: 1, members: 1 });
        }
        assert.deepEqual(await store.getMany(['live:record', 'live:expiring', 'gone:0']), ['kept', 'kept', undefined]);
        assert.equal(await store.claim('live:claim', 60_000), false);
        assert.deepEqual(await store.members('live:set'), ['kept']);
        assert.equal(await store.claim('gone:0', 60_000), true);
      } finally {
        await counter?.close();
        await store.close();
        await backend.cleanup?.(sweepNamespace);
      }
    });
  });
}

for (const backend of backends) storeContract(backend);

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
