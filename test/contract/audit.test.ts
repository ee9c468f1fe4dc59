/**
 * The audit trail on every backend: the chain verifies, each of the four tamperings (an entry
 * changed, removed, inserted, reordered) is found at the first bad entry, nothing expires, and on
 * the shared backends two writers appending at once keep one valid chain. Tampering is done the
 * way an intruder would: straight in the backend (SQL rows, Redis list), bypassing the store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import sqlite3 from 'sqlite3';
import { createAuditTrail, entryHash, type AuditEntry, type AuditTrail } from '../../broker/audit/index.ts';
import { checkpointSigner, cryptoSuite, newCheckpointKey, type CheckpointSigner, type CryptoSuiteName } from '../../broker/platform/crypto/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { postgresQuery, postgresUrl, redisUrl } from './storage/backends.ts';

const newNamespace = () => `a${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Replaces a log's stored entries, straight in the backend; returns the log name to read back. */
type Rewrite = (store: Store, namespace: string, log: string, entries: readonly string[]) => Promise<string>;

interface Backend {
  readonly name: string;
  readonly shared: boolean;
  url(): Promise<string>;
  rewrite: Rewrite;
  cleanup?(namespace: string): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-audit-'));
  const path = join(dir, 'audit.sqlite');
  const run = (sql: string, params: unknown[]) => new Promise<void>((resolve, reject) => {
    const db = new sqlite3.Database(path, (openError) => {
      if (openError) return reject(openError);
      db.configure('busyTimeout', 5_000);
      db.run(sql, params, (error) => db.close(() => (error ? reject(error) : resolve())));
    });
  });
  return {
    name: 'sqlite',
    shared: true,
    url: async () => `sqlite:${path}`,
    async rewrite(_store, namespace, log, entries) {
      await run('DELETE FROM tongban_logs WHERE log = ?', [`${namespace}:${log}`]);
      for (const [position, entry] of entries.entries()) {
        await run('INSERT INTO tongban_logs (log, position, entry) VALUES (?, ?, ?)', [`${namespace}:${log}`, position, entry]);
      }
      return log;
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const query = postgresQuery;
  return {
    name: 'postgres',
    shared: true,
    url: async () => postgresUrl,
    async rewrite(_store, namespace, log, entries) {
      await query('DELETE FROM tongban_logs WHERE log = $1', [`${namespace}:${log}`]);
      for (const [position, entry] of entries.entries()) {
        await query('INSERT INTO tongban_logs (log, position, entry) VALUES ($1, $2, $3)', [`${namespace}:${log}`, position, entry]);
      }
      return log;
    },
    async cleanup(namespace) {
      await query('DELETE FROM tongban_logs WHERE log LIKE $1', [`${namespace}:%`]);
    },
  };
}

const connectRedis = () => createClient({ url: redisUrl });

async function withRedis<T>(work: (client: ReturnType<typeof connectRedis>) => Promise<T>): Promise<T> {
  const client = connectRedis();
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
}

const backends: Backend[] = [
  {
    name: 'memory',
    shared: false,
    url: async () => 'memory:',
    // One process, one Map with no way in but the store: the tampered copy is written beside it.
    async rewrite(store, _namespace, log, entries) {
      const copy = `${log}-tampered-${randomUUID()}`;
      for (const [position, entry] of entries.entries()) assert.ok(await store.appendToLog(copy, position, entry));
      return copy;
    },
  },
  sqliteBackend(),
  {
    name: 'redis',
    shared: true,
    url: async () => redisUrl,
    rewrite: (_store, namespace, log, entries) => withRedis(async (client) => {
      const key = `${namespace}:l:${log}`;
      await client.del(key);
      if (entries.length) await client.rPush(key, [...entries]);
      return log;
    }),
    cleanup: (namespace) => withRedis(async (client) => {
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        if (keys.length > 0) await client.unlink(keys);
      }
    }),
  },
  postgresBackend(),
];

const suiteNames: readonly CryptoSuiteName[] = ['international', 'gm'];

for (const backend of backends) {
  describe(`audit trail: ${backend.name}`, function auditSuite() {
    this.timeout(30_000);
    const namespace = newNamespace();
    let store: Store;
    const signers = new Map<CryptoSuiteName, CheckpointSigner>();

    before(async () => {
      store = await createStore(await backend.url(), { namespace });
      for (const name of suiteNames) signers.set(name, checkpointSigner(await newCheckpointKey(name)));
    });

    after(async () => {
      await store?.close();
      await backend.cleanup?.(namespace);
    });

    const trailOn = (log: string, suite: CryptoSuiteName = 'international', on: Store = store): AuditTrail =>
      createAuditTrail({ store: on, suite: cryptoSuite(suite), signer: signers.get(suite)!, checkpointEvery: 4, log });

    async function filled(log: string, suite: CryptoSuiteName = 'international'): Promise<{ trail: AuditTrail; raw: string[] }> {
      const trail = trailOn(log, suite);
      for (let i = 0; i < 9; i += 1) {
        await trail.append(i % 3 === 0
          ? { type: 'release', action: 'claims.release', client: `app-${i % 2}`, subject: `pairwise-${i}`, details: { items: ['id_number'] } }
          : { type: 'admin', action: 'app.update', actor: 'operator-1', client: `app-${i % 2}` });
      }
      return { trail, raw: await trail.read() };
    }

    async function verdictAfter(log: string, raw: readonly string[]) {
      const tamperedLog = await backend.rewrite(store, namespace, log, raw);
      return trailOn(tamperedLog).verify({ trustedSigners: [signers.get('international')!.publicKey] });
    }

    for (const suite of suiteNames) {
      it(`keeps a chain that verifies, with signed checkpoints (${suite})`, async () => {
        const { trail, raw } = await filled(`ok-${suite}`, suite);
        // 9 records; positions 4 and 8 are checkpoints.
        assert.equal(raw.length, 11);
        const entries = raw.map((line) => JSON.parse(line) as AuditEntry);
        assert.deepEqual(entries.map((e) => e.seq), [...Array(11).keys()]);
        assert.deepEqual(entries.filter((e) => e.type === 'checkpoint').map((e) => e.seq), [4, 8]);
        assert.equal(entries[0]!.alg, suite === 'gm' ? 'sm3' : 'sha256');
        const verdict = await trail.verify({ trustedSigners: [signers.get(suite)!.publicKey] });
        assert.deepEqual(verdict, { ok: true, entries: 11, checkpoints: 2, head: entries[10]!.hash });
      });
    }

    it('finds a changed entry', async () => {
      const { raw } = await filled('changed');
      const tampered = [...raw];
      const entry = JSON.parse(tampered[5]!) as AuditEntry;
      tampered[5] = JSON.stringify({ ...entry, client: 'someone-else' });
      const verdict = await verdictAfter('changed', tampered);
      assert.equal(verdict.ok, false);
      assert.ok(!verdict.ok && verdict.position === 5 && verdict.seq === 5 && /changed/.test(verdict.reason));
    });

    it('finds a removed entry', async () => {
      const { raw } = await filled('removed');
      const verdict = await verdictAfter('removed', raw.filter((_, position) => position !== 2));
      assert.ok(!verdict.ok && verdict.position === 2 && verdict.seq === 3 && /removed/.test(verdict.reason), JSON.stringify(verdict));
      // The last entry removed: the chain still holds up to there, so only a pinned head or a
      // checkpoint shows it; the next append must then build on the shortened chain.
    });

    it('finds an inserted entry, even one hashed correctly', async () => {
      const { raw } = await filled('inserted');
      const before = JSON.parse(raw[2]!) as AuditEntry;
      const forged = { ...before, seq: 3, action: 'forged', prev: before.hash };
      const line = JSON.stringify({ ...forged, hash: entryHash(cryptoSuite('international'), forged) });
      const verdict = await verdictAfter('inserted', [...raw.slice(0, 3), line, ...raw.slice(3)]);
      assert.ok(!verdict.ok && verdict.position === 4 && verdict.seq === 3 && /inserted/.test(verdict.reason), JSON.stringify(verdict));
    });

    it('finds reordered entries', async () => {
      const { raw } = await filled('reordered');
      const tampered = [...raw];
      [tampered[6], tampered[7]] = [tampered[7]!, tampered[6]!];
      const verdict = await verdictAfter('reordered', tampered);
      assert.ok(!verdict.ok && verdict.position === 6 && verdict.seq === 7, JSON.stringify(verdict));
    });

    it('finds a rewritten tail by its checkpoint signature', async () => {
      const { raw } = await filled('rewritten');
      const suite = cryptoSuite('international');
      // An intruder changes entry 1 and re-hashes everything after it: only checkpoints catch that.
      const entries = raw.map((line) => JSON.parse(line) as AuditEntry);
      let prev = entries[0]!.hash;
      const rewritten = entries.map((entry, position) => {
        if (position === 0) return JSON.stringify(entry);
        const changed = { ...entry, prev, ...(position === 1 ? { client: 'someone-else' } : {}) };
        const hash = entryHash(suite, changed);
        prev = hash;
        return JSON.stringify({ ...changed, hash });
      });
      const verdict = await verdictAfter('rewritten', rewritten);
      assert.ok(!verdict.ok && verdict.position === 4 && /signature/.test(verdict.reason), JSON.stringify(verdict));
    });

    it('lists entries filtered by type, client and time', async () => {
      const { trail } = await filled('listed');
      assert.equal((await trail.list()).length, 11);
      assert.equal((await trail.list({ type: 'release' })).length, 3);
      assert.ok((await trail.list({ client: 'app-1' })).every((entry) => entry.client === 'app-1'));
      assert.equal((await trail.list({ since: new Date(Date.now() + 60_000) })).length, 0);
      assert.equal((await trail.list({ type: 'checkpoint' })).length, 2);
    });

    it('never expires: a sweep leaves every entry', async () => {
      const { trail } = await filled('kept');
      await store.sweep();
      assert.equal((await trail.verify()).ok, true);
      assert.equal(await store.logLength('kept'), 11);
      if (backend.name === 'redis') assert.equal(await withRedis((client) => client.pTTL(`${namespace}:l:kept`)), -1, 'no TTL on the Redis list');
    });

    it('lets exactly one of two racing appends take a position', async () => {
      const results = await Promise.all([store.appendToLog('race', 0, 'a'), store.appendToLog('race', 0, 'b')]);
      assert.deepEqual(results.filter(Boolean).length, 1);
      assert.equal(await store.appendToLog('race', 2, 'gap'), false, 'no gaps');
      assert.deepEqual((await store.readLog('race', 0, 10)).length, 1);
    });

    if (backend.shared) {
      it('keeps one valid chain when two nodes append at once', async () => {
        const other = await createStore(await backend.url(), { namespace });
        try {
          const nodeA = trailOn('concurrent');
          const nodeB = trailOn('concurrent', 'international', other);
          const writes = (trail: AuditTrail, node: string) => Promise.all(Array.from({ length: 25 }, (_, i) =>
            trail.append({ type: 'admin', action: 'city.update', actor: node, details: { i } })));
          await Promise.all([writes(nodeA, 'a'), writes(nodeB, 'b')]);
          const verdict = await nodeB.verify();
          assert.equal(verdict.ok, true, JSON.stringify(verdict));
          const entries = await nodeA.list();
          assert.equal(entries.filter((e) => e.type === 'admin').length, 50);
          assert.ok(entries.some((e) => e.actor === 'a') && entries.some((e) => e.actor === 'b'));
          assert.equal(entries.filter((e) => e.type === 'checkpoint').length, Math.floor((entries.length - 1) / 4));
        } finally {
          await other.close();
        }
      });
    }
  });
}
