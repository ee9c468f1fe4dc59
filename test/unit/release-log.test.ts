/**
 * The release log's notes for `/account`: a node does not write an unchanged note again within a
 * minute (so `last` lags at most a minute), but writes at once whatever is new, and every release of
 * a sensitive item still reaches the audit trail.
 */
import assert from 'node:assert/strict';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { createReleaseLog } from '../../broker/release/release-log.ts';

function countingStore() {
  const store = createMemoryStore();
  const calls = { get: 0, set: 0 };
  const counted: Store = {
    ...store,
    async get<T>(key: string) {
      calls.get += 1;
      return store.get<T>(key);
    },
    async set(key, value, ttlMs) {
      calls.set += 1;
      return store.set(key, value, ttlMs);
    },
  };
  return { store: counted, calls };
}

describe('release log notes', () => {
  const t0 = 1_800_000_000;

  it('skips a note this node wrote under a minute ago, and writes new items, a new label or a later time', async () => {
    const { store, calls } = countingStore();
    let now = t0;
    const appended: unknown[] = [];
    const log = createReleaseLog({ store, ttlSeconds: 3600, audit: { append: async (r) => appended.push(r) }, now: () => now });
    const release = { accountId: 'acc-1', clientId: 'app-1', subject: 'sub-1', use: 'userinfo' };

    await log.record({ ...release, scopes: ['openid', 'profile', 'phone'] });
    assert.deepEqual(calls, { get: 1, set: 1 });
    now = t0 + 30;
    await log.record({ ...release, scopes: ['openid', 'profile', 'phone'] });
    await log.record({ ...release, scopes: ['openid'] });
    assert.deepEqual(calls, { get: 1, set: 1 }, 'the same items within the minute: no store command');
    assert.equal(appended.length, 2, 'each release of the phone is still audited');

    await log.record({ ...release, scopes: ['openid', 'id_number'] });
    assert.deepEqual(calls, { get: 2, set: 2 }, 'a new item is written at once');
    assert.deepEqual(await log.list('acc-1'), [{ clientId: 'app-1', items: ['openid', 'profile', 'phone', 'id_number'], first: t0, last: t0 + 30 }]);

    await log.note({ accountId: 'acc-1', clientId: 'app-1', scopes: ['openid'], system: { name: '浙里办', city: '330100' } });
    assert.equal(calls.set, 3, 'a changed label is written');
    await log.note({ accountId: 'acc-1', clientId: 'app-2', scopes: ['openid'] });
    assert.equal(calls.set, 4, 'another app is another note');

    now = t0 + 30 + 60;
    await log.note({ accountId: 'acc-1', clientId: 'app-1', scopes: ['openid'], system: { name: '浙里办', city: '330100' } });
    assert.equal(calls.set, 5, 'a minute on, written again');
    assert.equal((await log.list('acc-1')).find((n) => n.clientId === 'app-1')?.last, t0 + 90);
  });

  it('remembers a bounded number of notes, and forgets first the oldest', async () => {
    const { store, calls } = countingStore();
    const log = createReleaseLog({ store, ttlSeconds: 3600, now: () => t0 });
    for (let i = 0; i <= 10_000; i += 1) await log.note({ accountId: `acc-${i}`, clientId: 'app', scopes: ['openid'] });
    assert.equal(calls.set, 10_001);
    await log.note({ accountId: 'acc-10000', clientId: 'app', scopes: ['openid'] });
    assert.equal(calls.set, 10_001, 'the newest is remembered');
    await log.note({ accountId: 'acc-0', clientId: 'app', scopes: ['openid'] });
    assert.equal(calls.set, 10_002, 'the oldest was forgotten: written again');
  });
});
