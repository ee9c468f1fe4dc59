/**
 * Key checks at start (issue 13, audit gap 1): a wrong but well-formed data key, or a ring that lacks
 * a key the store's sealed records still name, is a clear start-up error naming key ids only, on
 * the memory and SQLite stores; a retired key (all its records re-sealed) is not asked for again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBroker } from '../../broker/broker.ts';
import { checkDataKeys, createSealedRecords, createSealer, newDataKeyEntry, parseDataKeys, type DataKey } from '../../broker/platform/crypto/index.ts';
import { rotateDataKey } from '../../broker/platform/crypto/rotate-data-key.ts';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { loadConfig } from '../../config/load.ts';
import { freePort } from '../support/federation.ts';

const entry = (id: string) => newDataKeyEntry().replace(/^[^:]+/, id);
const ring = (...entries: string[]): DataKey[] => parseDataKeys(entries).keys;
const identity = { name: '张三', idNumber: '330106199003071234' };

async function start(store: Store, keys: DataKey[]): Promise<void> {
  await checkDataKeys({ store, sealer: createSealer('international', keys), keyIds: keys.map((key) => key.id) });
}

/** The start-up refusal, with the key material of `entries` nowhere in it. */
function refused(pattern: RegExp, ...entries: string[]) {
  return (error: unknown) => {
    assert.ok(isTongbanError(error), String(error));
    assert.equal(error.key, 'keys_unusable');
    assert.match(error.message, pattern);
    for (const e of entries) assert.ok(!`${error.message} ${error.detail ?? ''}`.includes(e.split(':')[1]!), 'no key material');
    return true;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tongban-key-checks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`data key checks at start (${backend})`, () => {
    let store: Store;
    beforeEach(async () => {
      const namespace = `kc${Math.random().toString(36).slice(2, 10)}`;
      store = await createStore(backend === 'memory' ? 'memory:' : `sqlite:${join(dir, `${namespace}.sqlite`)}`, { namespace, logger: createMemoryLogger('error') });
    });
    afterEach(async () => store?.close());

    it('writes a check record with no personal data, and starts again with the same key', async () => {
      const k1 = entry('k1');
      await start(store, ring(k1));
      const check = await store.get<{ sealed: string }>('crypto:key-check:k1');
      assert.match(check?.sealed ?? '', /^tb1\.international\.k1\./);
      assert.deepEqual(await store.members('crypto:key-checks'), ['k1']);
      await start(store, ring(k1));
    });

    it('refuses a wrong but well-formed key under a known id, naming the id only', async () => {
      const right = entry('k1');
      const wrong = entry('k1');
      await createSealedRecords(store, createSealer('international', ring(right))).set('identity:a', identity, 'identity', 60_000);
      assert.ok(await store.get('crypto:key-check:k1'), 'the first sealed record wrote the check record');
      await assert.rejects(start(store, ring(wrong)), refused(/TONGBAN_DATA_KEY: key k1 does not open this store's records/, right, wrong));
      // An extra good key in front does not hide the wrong one behind it.
      await assert.rejects(start(store, ring(entry('k2'), wrong)), refused(/key k1 does not open/, wrong));
    });

    it('refuses a ring that lacks key ids the sealed records name, and forgets a key once re-sealed away', async () => {
      const k1 = entry('k1');
      const k0 = entry('k0');
      await createSealedRecords(store, createSealer('international', ring(k0))).set('identity:z', identity, 'identity', 60_000);
      await createSealedRecords(store, createSealer('international', ring(k1))).set('identity:a', identity, 'identity', 60_000);
      const k2 = entry('k2');
      await assert.rejects(start(store, ring(k2)), refused(/records sealed under keys (k0, k1|k1, k0), which the configured keys lack/, k1, k0, k2));
      await start(store, ring(k2, k1, k0));
      const done = await rotateDataKey({ mode: 'production', keys: { refreshSeconds: 5, dataKeys: [k2, k1, k0] } }, store);
      assert.equal(done.resealed, 2);
      await start(store, ring(k2));
      assert.deepEqual(await store.members('crypto:key-checks'), ['k2'], 'k0 and k1 retired');
      assert.equal(await store.get('crypto:key-check:k1'), undefined);
    });

    it('learns the key ids of a store sealed before key checks existed', async () => {
      const k1 = entry('k1');
      const sealer = createSealer('international', ring(k1));
      await store.addToSet('sealed:index', 'identity:old');
      await store.set('identity:old', { sealed: sealer.seal(identity, 'identity'), context: 'identity', expiresAt: null });
      await assert.rejects(start(store, ring(entry('k9'))), refused(/sealed under key k1, which the configured keys lack/));
    });

    it('rotate-data-key refuses a wrong key before it re-seals anything', async () => {
      const right = entry('k1');
      await createSealedRecords(store, createSealer('international', ring(right))).set('identity:a', identity, 'identity', 60_000);
      await assert.rejects(rotateDataKey({ mode: 'production', keys: { refreshSeconds: 5, dataKeys: [entry('k2'), entry('k1')] } }, store), refused(/key k1 does not open/));
      const raw = await store.get<{ sealed: string }>('identity:a');
      assert.match(raw?.sealed ?? '', /^tb1\.international\.k1\./, 'left as it was');
    });
  });
}

describe('a broker on a store whose records its data key does not open', () => {
  it('refuses to start with the clear message', async () => {
    const store = await createStore('memory:', { logger: createMemoryLogger('error') });
    try {
      const right = entry('d1');
      const wrong = entry('d1');
      await createSealedRecords(store, createSealer('international', ring(right))).set('identity:a', identity, 'identity', 60_000);
      const port = await freePort();
      const config = loadConfig({
        env: { TONGBAN_MODE: 'development', TONGBAN_DATA_KEY: wrong },
        overrides: { issuer: `http://127.0.0.1:${port}`, listen: { host: '127.0.0.1', port }, metrics: { listen: { host: '127.0.0.1', port: 0 } }, store: 'memory:' },
      });
      await assert.rejects(createBroker(config, { logger: createMemoryLogger('error'), store }), refused(/TONGBAN_DATA_KEY: key d1 does not open this store's records/, wrong, right));
    } finally {
      await store.close();
    }
  });
});
