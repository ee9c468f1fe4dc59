/**
 * The storage conformance suite: what every backend of the Store contract must do, as exported code
 * that each backend's own test calls (as dex's storage/conformance). It registers mocha suites, so it
 * is called from a test file: `storeConformance(backend)`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from './index.ts';
import type { Store } from './types.ts';

/** A fresh namespace, so runs and backends never see each other's keys. */
export const newNamespace = (): string => `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Counts rows of a namespace straight from the SQL tables, bypassing the store. */
export type RowCounter = (namespace: string) => Promise<{ records: number; claims: number; sets: number; members: number }>;

/** One backend under test: how to reach it, and how to look behind the store where it can. */
export interface ConformanceBackend {
  readonly name: string;
  /** Two store instances share data (false for memory: one process, one Map). */
  readonly shared: boolean;
  url(): Promise<string>;
  counter?(): Promise<{ count: RowCounter; close(): Promise<void> }>;
  cleanup?(namespace: string): Promise<void>;
  teardown?(): Promise<void>;
}

const sorted = (values: string[]) => [...values].sort();

export function storeConformance(backend: ConformanceBackend): void {
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

    it('appends to a log at exactly its end, once per position, across nodes; logs never expire', async () => {
      const log = `log-${randomUUID()}`;
      assert.equal(await a.logLength(log), 0);
      const raced = await Promise.all([a.appendToLog(log, 0, 'first'), b.appendToLog(log, 0, 'other')]);
      assert.equal(raced.filter(Boolean).length, 1);
      assert.equal(await b.appendToLog(log, 0, 'late'), false);
      assert.equal(await b.appendToLog(log, 2, 'gap'), false);
      assert.equal(await b.appendToLog(log, 1, '通办 second'), true);
      assert.equal(await a.logLength(log), 2);
      await a.sweep();
      const entries = await b.readLog(log, 0, 10);
      assert.equal(entries.length, 2);
      assert.ok(['first', 'other'].includes(entries[0]!));
      assert.deepEqual(await a.readLog(log, 1, 1), ['通办 second']);
      assert.deepEqual(await a.readLog(log, 5, 10), []);
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

    it('gives a consumed record to exactly one of 50 racing readers, and never an expired one', async () => {
      for (let round = 0; round < 3; round += 1) {
        const key = `take-once:${round}`;
        await a.set(key, { round }, 60_000);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).consume<{ round: number }>(key)));
        assert.deepEqual(results.filter((r) => r !== undefined), [{ round }], `round ${round}`);
        assert.equal(await a.get(key), undefined);
      }
      assert.equal(await a.consume('take-once:absent'), undefined);
      await a.set('take-once:short', 'soon gone', 99.5);
      await sleep(200);
      assert.equal(await b.consume('take-once:short'), undefined);
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

    it('ends a set at the latest end any of its racing adders wanted, whatever their order', async () => {
      // Short and long adds interleaved from two stores on a new set: the long one must win every time.
      const short = 300;
      const sets = ['set:race-0', 'set:race-1', 'set:race-2'];
      await Promise.all(sets.flatMap((set, round) => Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b)
        .addToSet(set, `m${i}`, i === (round * 5) % 12 ? 60_000 : short))));
      await sleep(short + 150);
      for (const set of sets) assert.equal((await b.members(set)).length, 12, set);
      await Promise.all(sets.map((set) => a.deleteSet(set)));
    });

    it('keeps a fixed-lifetime set for that lifetime after its latest add, then lets it expire', async () => {
      // Every add passes the same lifetime (the caller's promise): the set outlives each member.
      const lifetime = 400;
      await a.addToSet('set:fixed', 'first', lifetime, { fixedLifetime: true });
      await sleep(250);
      await b.addToSet('set:fixed', 'second', lifetime, { fixedLifetime: true });
      await sleep(250);
      // 500 ms after the first add, 250 ms after the second: both still listed.
      assert.deepEqual(sorted(await a.members('set:fixed')), ['first', 'second']);
      await sleep(lifetime);
      assert.deepEqual(await b.members('set:fixed'), []);
    });

    it('increments counters atomically across nodes, keeps them apart by group and field, and expires them', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment('count:minute', 'ok', 1, 60_000)));
      assert.equal(await a.increment('count:minute', 'upstream_timeout', 3, 60_000), 3);
      assert.equal(await b.increment('count:minute', 'ok', 2, 60_000), 42);
      assert.deepEqual(await b.counters('count:minute'), { ok: 42, upstream_timeout: 3 });
      assert.deepEqual(await a.counters('count:other'), {});
      await assert.rejects(a.increment('count:minute', 'ok', 1, 0));
      const short = 300;
      await a.increment('count:short', 'ok', 5, short);
      assert.deepEqual(await b.counters('count:short'), { ok: 5 });
      await sleep(short + 150);
      assert.deepEqual(await b.counters('count:short'), {});
      assert.equal(await b.increment('count:short', 'ok', 1, 60_000), 1);
      await a.sweep();
      assert.deepEqual(await a.counters('count:minute'), { ok: 42, upstream_timeout: 3 });
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
