/**
 * The stored form of records: plain JSON with `expires` at the top, and records written in keyv's
 * own form (by earlier versions) read back exactly as before. Against the real Redis
 * (127.0.0.1:6379): these tests fail, they do not skip, when it is down.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { createStore } from '../../broker/platform/storage/index.ts';
import { deserializeRecord, serializeRecord, serializeRecordWithoutExpiry } from '../../broker/platform/storage/records.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

const redisUrl = 'redis://127.0.0.1:6379';

describe('stored form of records', () => {
  const namespace = `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let store: Store;
  let raw: ReturnType<typeof createClient>;

  before(async () => {
    store = await createStore(redisUrl, { namespace });
    raw = createClient({ url: redisUrl });
    await raw.connect();
  });

  after(async () => {
    const keys = await raw.keys(`${namespace}:*`);
    if (keys.length) await raw.del(keys);
    await raw.quit();
    await store.close();
  });

  it('writes plain JSON, expired by Redis itself, and reads it back unchanged', async () => {
    const value = { text: '通办', colon: ':leading colon', doubled: '::two', base64: ':base64:AAAA', list: [1, ':x', null], n: 3.5 };
    await store.set('plain', value, 60_000);
    const text = await raw.get(`${namespace}:r:plain`);
    assert.ok(text);
    assert.deepEqual(JSON.parse(text), { v: value });
    const ttl = await raw.pTTL(`${namespace}:r:plain`);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `PTTL ${ttl}`);
    assert.deepEqual(await store.get('plain'), value);
    assert.deepEqual(await store.getMany(['plain', 'absent']), [value, undefined]);
  });

  it('reads records written in keyv\'s own form, its escapes included', async () => {
    // What keyv 5's default serializer wrote for { colon: ':a', doubled: '::b', plain: 'c' }.
    await raw.set(`${namespace}:r:old`, `{"value":{"colon":"::a","doubled":":::b","plain":"c","n":[1,"::d"]},"expires":${Date.now() + 60_000}}`);
    assert.deepEqual(await store.get('old'), { colon: ':a', doubled: '::b', plain: 'c', n: [1, ':d'] });
    await raw.set(`${namespace}:r:old-expired`, `{"value":"gone","expires":${Date.now() - 1000}}`);
    assert.equal(await store.get('old-expired'), undefined);
    await raw.set(`${namespace}:r:old-forever`, '{"value":"::kept"}');
    assert.equal(await store.get('old-forever'), ':kept');
  });

  it('keeps the expiry at the top for backends that read it there (SQL sweeps, memory)', () => {
    const text = serializeRecord({ value: { a: 1 }, expires: 1234 });
    assert.equal(text, '{"v":{"a":1},"expires":1234}');
    assert.deepEqual(deserializeRecord(text), { value: { a: 1 }, expires: 1234 });
    assert.equal(serializeRecordWithoutExpiry({ value: { a: 1 }, expires: 1234 }), '{"v":{"a":1}}');
    assert.equal(serializeRecord({ value: 'x' }), '{"v":"x"}');
    assert.deepEqual(deserializeRecord('{"v":"x"}'), { value: 'x' });
  });
});
