/**
 * The sealed index by expiry day: a record that ran out leaves the index with its day (it no longer
 * stays listed for ever, as in the one `sealed:index` of earlier versions), records without expiry
 * stay listed, a re-seal still reaches every live record, and a store of an earlier version is
 * moved over once.
 */
import assert from 'node:assert/strict';
import { checkDataKeys, createSealedRecords, createSealer, parseDataKeys, type DataKey } from '../../broker/platform/crypto/index.ts';
import { legacySealedIndex, listSealedRecords, sealedIndexSet } from '../../broker/platform/crypto/sealed-index.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';

const key = (id: string): DataKey => parseDataKeys([`${id}:${Buffer.alloc(32, id.charCodeAt(0)).toString('base64url')}`]).keys[0]!;
const identity = { name: '张三', idNumber: '330106199003071234' };
const minute = 60_000;
const day = 24 * 60 * minute;
const start = Date.UTC(2026, 11, 6, 22, 0, 0);

describe('sealed index by expiry day', () => {
  const realNow = Date.now;
  let now = start;
  beforeEach(() => {
    now = start;
    Date.now = () => now;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  it('lists a record under the day it expires, or under forever', () => {
    assert.equal(sealedIndexSet(Date.UTC(2026, 11, 6, 23, 59)), 'sealed:index:2026-12-06');
    assert.equal(sealedIndexSet(Date.UTC(2026, 11, 7, 0, 0)), 'sealed:index:2026-12-07');
    assert.equal(sealedIndexSet(null), 'sealed:index:forever');
  });

  it('drops records that expired with their day, keeps the others listed, and re-seals every live one', async () => {
    const store = createMemoryStore();
    const records = createSealedRecords(store, createSealer('international', [key('k1')]));
    await records.set('identity:short', identity, 'identity', 30 * minute);
    await records.set('identity:long', identity, 'identity', 3 * day);
    await records.set('legacy:system-password:330000:x', 'secret', 'password');
    assert.deepEqual(await store.members(legacySealedIndex), [], 'no one set kept alive by every write');
    assert.deepEqual(await store.members('sealed:index:2026-12-06'), ['identity:short']);

    // Two days on, with writes meanwhile: the short record and its day are gone from the index.
    now = start + 2 * day;
    await records.set('identity:later', identity, 'identity', 10 * minute);
    assert.equal(await store.get('identity:short'), undefined);
    assert.deepEqual(await store.members('sealed:index:2026-12-06'), []);
    const days = async () => (await store.members('sealed:index:days')).sort();
    assert.deepEqual(await days(), ['2026-12-06', '2026-12-08', '2026-12-09']);
    const listed = await listSealedRecords(store);
    assert.deepEqual([...listed.keys()].sort(), ['identity:later', 'identity:long', 'legacy:system-password:330000:x']);
    assert.deepEqual(await days(), ['2026-12-08', '2026-12-09'], 'a walk drops the days gone by');

    const rotated = createSealedRecords(store, createSealer('international', [key('k2'), key('k1')]));
    assert.deepEqual(await rotated.reseal(), { resealed: 3, current: 0, gone: 0 });
    assert.deepEqual(await rotated.reseal(), { resealed: 0, current: 3, gone: 0 });
    const sealedBy = async (k: string) => (await store.get<{ sealed: string }>(k))!.sealed.split('.')[2];
    for (const k of listed.keys()) assert.equal(await sealedBy(k), 'k2', k);
    assert.equal((await store.get<{ expiresAt: number }>('identity:long'))!.expiresAt, start + 3 * day, 'its lifetime kept');

    // A delete unlists at once; a record without expiry too.
    assert.equal(await rotated.delete('identity:long'), true);
    assert.equal(await rotated.delete('legacy:system-password:330000:x'), true);
    assert.equal(await rotated.delete('identity:absent'), false);
    assert.deepEqual([...(await listSealedRecords(store)).keys()], ['identity:later']);
    assert.deepEqual(await store.members('sealed:index:forever'), []);
  });

  it('has a day listed again within a minute when the store lost the list of days', async () => {
    const store = createMemoryStore();
    const records = createSealedRecords(store, createSealer('international', [key('k1')]));
    await records.set('identity:a', identity, 'identity', 60 * minute);
    await store.deleteSet('sealed:index:days');
    await records.set('identity:b', identity, 'identity', 60 * minute);
    now += minute;
    await records.set('identity:c', identity, 'identity', 60 * minute);
    assert.deepEqual([...(await listSealedRecords(store)).keys()].sort(), ['identity:a', 'identity:b', 'identity:c']);
  });

  it('moves a store of an earlier version to the days once, at start, and empties its one index', async () => {
    const store = createMemoryStore();
    const old = createSealer('international', [key('k1')]);
    const write = async (k: string, expiresAt: number | null) => {
      await store.addToSet(legacySealedIndex, k);
      await store.set(k, { sealed: old.seal(identity, 'identity'), context: 'identity', expiresAt }, expiresAt === null ? undefined : expiresAt - now);
    };
    await write('identity:live', start + 2 * day);
    await write('identity:forever', null);
    await write('identity:soon', start + minute);
    await store.addToSet(legacySealedIndex, 'identity:long-gone');
    now += 5 * minute;

    await checkDataKeys({ store, sealer: old, keyIds: ['k1'] });
    assert.deepEqual(await store.members(legacySealedIndex), []);
    assert.deepEqual([...(await listSealedRecords(store)).keys()].sort(), ['identity:forever', 'identity:live']);
    assert.deepEqual(await store.members('sealed:index:2026-12-08'), ['identity:live']);

    // The key of the old records stays needed: a ring without it is refused until they are re-sealed.
    await assert.rejects(checkDataKeys({ store, sealer: createSealer('international', [key('k2')]), keyIds: ['k2'] }), /k1/);
    const rotated = createSealedRecords(store, createSealer('international', [key('k2'), key('k1')]));
    assert.deepEqual(await rotated.reseal(), { resealed: 2, current: 0, gone: 0 });
    await checkDataKeys({ store, sealer: createSealer('international', [key('k2')]), keyIds: ['k2'] });
  });
});
