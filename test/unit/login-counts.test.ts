/**
 * The dashboard's login counts: counted in each node's memory, flushed to the shared store one
 * increment per counter, read back with this node's unflushed counts added.
 */
import assert from 'node:assert/strict';
import { createLoginCounts } from '../../broker/dashboard/login-counts.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

/** A store that counts its increments and can be made to refuse them. */
function countingStore() {
  const store = createMemoryStore();
  const state = { increments: 0, failing: false };
  const wrapped: Store = {
    ...store,
    async increment(key, field, by, ttlMs) {
      if (state.failing) throw new Error('store unreachable');
      state.increments += 1;
      return store.increment(key, field, by, ttlMs);
    },
  };
  return { store: wrapped, state };
}

const at = Date.UTC(2026, 11, 6, 10, 30, 15);
const hourTotal = (series: { successes: readonly number[] }) => series.successes.reduce((a, b) => a + b, 0);

describe('dashboard login counts', () => {
  it('shows a node its own logins at once and the other nodes\' after a flush, one increment per counter', async () => {
    const { store, state } = countingStore();
    const nodeA = createLoginCounts(store, { flushIntervalMs: 60_000 });
    const nodeB = createLoginCounts(store, { flushIntervalMs: 60_000 });
    try {
      for (let i = 0; i < 50; i += 1) nodeA.record({ city: '330100', outcome: 'success' }, at + i);
      nodeA.record({ city: '320500', outcome: 'access_denied' }, at);
      assert.equal(state.increments, 0, 'nothing written per login');
      assert.equal(hourTotal(await nodeA.series('hour', undefined, at + 1000)), 50, 'its own logins at once');
      assert.equal(hourTotal(await nodeB.series('hour', undefined, at + 1000)), 0, 'not yet on the other node');

      await nodeA.flush();
      // Two fields, each in its minute group and its hour group.
      assert.equal(state.increments, 4);
      const onB = await nodeB.series('hour', undefined, at + 1000);
      assert.equal(hourTotal(onB), 50);
      assert.deepEqual(onB.reasons, { access_denied: 1 });
      assert.deepEqual(onB.cities['320500'], { success: 0, failure: 1 });
      assert.equal(hourTotal(await nodeA.series('hour', undefined, at + 1000)), 50, 'counted once after the flush');

      nodeB.record({ city: '330100', outcome: 'success' }, at + 2000);
      const day = await nodeB.series('day', '330000', at + 2000);
      assert.equal(day.successes.at(-1), 51, 'both nodes in the hour, this province only');
      assert.equal(day.provinces['320000'], undefined);
      await nodeA.flush();
      assert.equal(state.increments, 4, 'an empty flush writes nothing');
    } finally {
      await nodeA.close();
      await nodeB.close();
    }
  });

  it('keeps what a flush could not write for the next one, and flushes on close', async () => {
    const { store, state } = countingStore();
    const errors: unknown[] = [];
    const node = createLoginCounts(store, { flushIntervalMs: 60_000, onFlushError: (error) => errors.push(error) });
    const reader = createLoginCounts(store);
    const now = Date.now();
    node.record({ city: '330100', outcome: 'success' }, now);
    state.failing = true;
    await node.flush();
    assert.equal(errors.length, 1);
    assert.equal(hourTotal(await node.series('hour', undefined, now)), 1, 'still counted here');
    state.failing = false;
    node.record({ city: '330100', outcome: 'success' }, now);
    await node.close();
    assert.equal(state.increments, 2, 'the kept and the new count in one increment per group');
    assert.equal(hourTotal(await reader.series('hour', undefined, now)), 2);
    await reader.close();
  });

  it('flushes by itself every interval', async () => {
    const { store } = countingStore();
    const node = createLoginCounts(store, { flushIntervalMs: 20 });
    const reader = createLoginCounts(store);
    const now = Date.now();
    try {
      node.record({ city: '330100', outcome: 'success' }, now);
      const deadline = Date.now() + 2_000;
      while (hourTotal(await reader.series('hour', undefined, now)) < 1) {
        assert.ok(Date.now() < deadline, 'flushed within the interval');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await node.close();
      await reader.close();
    }
  });
});
