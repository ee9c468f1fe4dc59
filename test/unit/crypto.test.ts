/**
 * The crypto building blocks of issue 13: both suites seal and open, tampering and wrong keys fail
 * with the key id named, rotation keeps old records readable, a store refuses the other suite, and
 * checkpoint signatures (ES256, SM2 with user id) verify only with the right key and id.
 */
import assert from 'node:assert/strict';
import { createHash, getCiphers } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import {
  addStoredDataKey, checkCryptoSuite, checkpointSigner, createSealedRecords, createSealer, cryptoSuite, cryptoSuiteNames,
  isSealed, loadDataKeys, loadStoredCheckpointKey, newCheckpointKey, newDataKeyEntry, parseDataKeys, readStoredDataKeys, RecordUnsealableError, restoreDataKeys,
  sm2UserId, verifyCheckpointSignature, type DataKey,
} from '../../broker/platform/crypto/index.ts';
import { rotateDataKey } from '../../broker/platform/crypto/rotate-data-key.ts';
import { listSealedRecords } from '../../broker/platform/crypto/sealed-index.ts';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { createDerive } from '../../broker/identity/subjects.ts';
import { loadConfig } from '../../config/load.ts';

const key = (id: string): DataKey => parseDataKeys([`${id}:${Buffer.alloc(32, id.charCodeAt(0)).toString('base64url')}`]).keys[0]!;
const identity = { name: '张三', idNumber: '330106199003071234', phone: '13800000000' };

function assertUnsealable(fn: () => unknown, keyId: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RecordUnsealableError);
    assert.equal(error.code, 'record_unsealable');
    assert.equal(error.keyId, keyId);
    // "Please sign in again": an error page or OAuth error, never a 500 (broker/accounts/find-account.ts).
    assert.equal(error.status, 401);
    assert.ok(!error.message.includes('张三'));
    return true;
  });
}

for (const suiteName of cryptoSuiteNames) {
  describe(`crypto suite ${suiteName}`, () => {
    const suite = cryptoSuite(suiteName);

    it('seals a record that names its suite and key id and holds nothing readable', () => {
      const sealer = createSealer(suiteName, [key('k1')]);
      const sealed = sealer.seal(identity, 'identity');
      assert.ok(isSealed(sealed));
      assert.match(sealed, new RegExp(`^tb1\\.${suiteName}\\.k1\\.`));
      for (const value of Object.values(identity)) assert.ok(!sealed.includes(value));
      assert.ok(!Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1').includes('330106'));
      assert.deepEqual(sealer.open(sealed, 'identity'), identity);
      assert.notEqual(sealer.seal(identity, 'identity'), sealed, 'a fresh IV each time');
    });

    it('refuses a changed byte, another context, a missing key, and the other suite, naming the key id', () => {
      const sealer = createSealer(suiteName, [key('k1')]);
      const sealed = sealer.seal(identity, 'identity');
      const body = Buffer.from(sealed.split('.')[3]!, 'base64url');
      for (const at of [0, 20, body.length - 1]) {
        const changed = Buffer.from(body);
        changed[at]! ^= 1;
        assertUnsealable(() => sealer.open(`tb1.${suiteName}.k1.${changed.toString('base64url')}`, 'identity'), 'k1');
      }
      assertUnsealable(() => sealer.open(sealed, 'legal-person'), 'k1');
      assertUnsealable(() => createSealer(suiteName, [key('k2')]).open(sealed, 'identity'), 'k1');
      const other = cryptoSuiteNames.find((name) => name !== suiteName)!;
      assertUnsealable(() => createSealer(other, [key('k1')]).open(sealed, 'identity'), 'k1');
      assertUnsealable(() => sealer.open(JSON.stringify(identity), 'identity'), 'unknown');
      assertUnsealable(() => sealer.open(`tb1.${suiteName}.k1.`, 'identity'), 'k1');
    });

    it('opens with every key of the ring and seals with the first (rotation)', () => {
      const old = createSealer(suiteName, [key('k1')]).seal(identity, 'identity');
      const rotated = createSealer(suiteName, [key('k2'), key('k1')]);
      assert.deepEqual(rotated.open(old, 'identity'), identity);
      assert.equal(rotated.keyIdOf(rotated.seal(identity, 'identity')), 'k2');
    });

    it('hashes with the suite algorithm, keyed and unkeyed', () => {
      const algorithm = suiteName === 'gm' ? 'sm3' : 'sha256';
      assert.equal(suite.hashName, algorithm);
      assert.equal(suite.digest('abc'), createHash(algorithm).update('abc').digest('hex'));
      assert.notEqual(suite.keyedHash('secret', 'a', 'b'), suite.keyedHash('secret', 'ab'));
      assert.notEqual(suite.keyedHash('secret', 'a'), suite.keyedHash('other', 'a'));
    });

    it('signs checkpoints that only the right key verifies', async () => {
      const signer = checkpointSigner(await newCheckpointKey(suiteName));
      const signature = await signer.sign('message');
      assert.equal(await verifyCheckpointSignature(suiteName, signer.publicKey, 'message', signature), true);
      assert.equal(await verifyCheckpointSignature(suiteName, signer.publicKey, 'messagf', signature), false);
      const stranger = checkpointSigner(await newCheckpointKey(suiteName));
      assert.equal(await verifyCheckpointSignature(suiteName, stranger.publicKey, 'message', signature), false);
    });
  });
}

describe('国密 suite details', () => {
  it('uses SM4 (CBC + HMAC-SM3, as Node has no SM4-GCM) and SM2 with the broker user id', async () => {
    assert.ok(getCiphers().includes('sm4-cbc'));
    const key = await newCheckpointKey('gm');
    assert.equal(key.suite, 'gm');
    const signature = await checkpointSigner(key).sign('checkpoint');
    const publicKey = key.suite === 'gm' ? key.publicKey : '';
    assert.equal(sm2.doVerifySignature('checkpoint', signature, publicKey, { hash: true, der: false, userId: sm2UserId }), true);
    // The user id is part of the signed digest (Z_A): another id does not verify.
    assert.equal(sm2.doVerifySignature('checkpoint', signature, publicKey, { hash: true, der: false, userId: '1234567812345678' }), false);
  });
});

describe('data keys', () => {
  it('parses configured keys and reports every problem with its position, never the key', () => {
    const good = newDataKeyEntry();
    assert.equal(parseDataKeys([good]).problems.length, 0);
    const { problems } = parseDataKeys(['nocolon', `bad id!:${good.split(':')[1]}`, 'short:AAAA', good, good]);
    assert.equal(problems.length, 4);
    assert.match(problems[2]!, /keys\.dataKeys\[2\].*32 bytes/);
    assert.match(problems[3]!, /appears twice/);
    assert.ok(problems.every((problem) => !problem.includes(good.split(':')[1]!)));
    assert.match(parseDataKeys([]).problems[0]!, /TONGBAN_DATA_KEY/);
  });

  it('requires keys in production, generates them once in development, and a rotation adds one in front', async () => {
    const store = createMemoryStore();
    const logger = createMemoryLogger();
    await assert.rejects(loadDataKeys({ mode: 'production', store, logger }), (error: unknown) => isTongbanError(error) && error.code === 'config_invalid');
    await assert.rejects(loadDataKeys({ mode: 'production', configured: ['x:short'], store, logger }), /32 bytes/);
    const [first] = await loadDataKeys({ mode: 'development', store, logger });
    const again = await loadDataKeys({ mode: 'development', store, logger });
    assert.deepEqual(again.map((k) => k.id), [first!.id]);
    assert.ok(logger.lines.every((line) => !JSON.stringify(line).includes(first!.secret.toString('base64url'))));
    const rotated = await addStoredDataKey(store);
    assert.equal(rotated.length, 2);
    assert.equal(rotated[1]!.id, first!.id);
    const configured = await loadDataKeys({ mode: 'production', configured: [newDataKeyEntry()], store, logger });
    assert.equal(configured.length, 1);
  });

  it('refuses to open a store under the other suite, with a clear message', async () => {
    const store = createMemoryStore();
    await checkCryptoSuite(store, 'international');
    await checkCryptoSuite(store, 'international');
    await assert.rejects(checkCryptoSuite(store, 'gm'), (error: unknown) => {
      assert.ok(isTongbanError(error));
      assert.equal(error.code, 'crypto_suite_mismatch');
      assert.match(error.message, /written under crypto\.suite "international".*asks for "gm"/s);
      return true;
    });
  });

  it('keeps a development checkpoint key per suite in the store', async () => {
    const store = createMemoryStore();
    const a = await loadStoredCheckpointKey(store, 'gm');
    assert.deepEqual(await loadStoredCheckpointKey(store, 'gm'), a);
    assert.equal((await loadStoredCheckpointKey(store, 'international')).suite, 'international');
  });
});

describe('sealed records', () => {
  it('stores only ciphertext, re-seals everything under a new key keeping lifetimes, and fails closed', async () => {
    const store = createMemoryStore();
    const oldSealer = createSealer('international', [key('k1')]);
    const before = createSealedRecords(store, oldSealer);
    await before.set('identity:a', identity, 'identity', 60_000);
    await before.set('identity:b', identity, 'identity');
    await before.set('identity:gone', identity, 'identity', 60_000);
    await store.delete('identity:gone');
    assert.ok(!JSON.stringify(await store.get('identity:a')).includes('330106'));
    assert.deepEqual(await before.get('identity:a', 'identity'), identity);
    assert.equal(await before.get('identity:none', 'identity'), undefined);

    const after = createSealedRecords(store, createSealer('international', [key('k2'), key('k1')]));
    assert.deepEqual(await after.reseal(), { resealed: 2, current: 0, gone: 1 });
    assert.deepEqual(await after.reseal(), { resealed: 0, current: 2, gone: 0 });
    const raw = await store.get<{ sealed: string; expiresAt: number | null }>('identity:a');
    assert.equal(oldSealer.keyIdOf(raw!.sealed), 'k2');
    assert.ok(raw!.expiresAt !== null && raw!.expiresAt <= Date.now() + 60_000);
    assert.equal((await store.get<{ expiresAt: number | null }>('identity:b'))!.expiresAt, null);
    // Only the new key now: the old one is no longer needed.
    assert.deepEqual(await createSealedRecords(store, createSealer('international', [key('k2')])).get('identity:b', 'identity'), identity);
    // Plaintext where a sealed record belongs is an error, never a record.
    await store.set('identity:plain', identity);
    await assert.rejects(after.get('identity:plain', 'identity'), RecordUnsealableError);
    assert.equal(await after.delete('identity:a'), true);
    assert.ok(!(await listSealedRecords(store)).has('identity:a'));
  });

  it('development, several nodes: a key another node generated is read again; a store that lost the keys gets them back', async () => {
    const store = createMemoryStore();
    const logger = createMemoryLogger('error');
    // Node A started before a store restart; the restarted store is empty and node B generates its own key.
    const keysOfA = [key('a')];
    const keysOfB = await loadDataKeys({ mode: 'development', store, logger });
    const reread = async () => {
      await restoreDataKeys(store, keysOfA);
      return readStoredDataKeys(store);
    };
    const nodeA = createSealedRecords(store, createSealer('international', keysOfA, reread));
    const nodeB = createSealedRecords(store, createSealer('international', keysOfB, () => readStoredDataKeys(store)));
    await nodeB.set('identity:b', identity, 'identity');
    assert.deepEqual(await nodeA.get('identity:b', 'identity'), identity, 'A learns B\'s key from the store');
    // A wrote its key back behind B's (B still seals): B opens what A sealed after one more read.
    assert.deepEqual((await readStoredDataKeys(store))?.map((k) => k.id), [keysOfB[0]!.id, 'a']);
    assert.equal(await restoreDataKeys(store, keysOfA), false, 'nothing left to write back');
    await nodeA.set('identity:a', identity, 'identity');
    assert.deepEqual(await nodeB.get('identity:a', 'identity'), identity);
    // A key no node holds still fails closed, naming the key id.
    await createSealedRecords(store, createSealer('international', [key('z')])).set('identity:z', identity, 'identity');
    await assert.rejects(nodeB.get('identity:z', 'identity'), (error: unknown) => error instanceof RecordUnsealableError && error.keyId === 'z');
  });
});

describe('rotate-data-key', () => {
  it('development: adds a key and re-seals every record under it; the other suite is refused', async () => {
    const store = createMemoryStore();
    const logger = createMemoryLogger();
    const config = { mode: 'development' as const, keys: { refreshSeconds: 5 }, crypto: { suite: 'gm' as const } };
    const keys = await loadDataKeys({ mode: 'development', store, logger });
    await createSealedRecords(store, createSealer('gm', keys)).set('legal-person:x', { creditCode: '91330100MA27XXXX0X' }, 'legal-person', 60_000);
    const done = await rotateDataKey(config, store);
    assert.equal(done.added, true);
    assert.equal(done.resealed, 1);
    assert.notEqual(done.keyId, keys[0]!.id);
    const raw = await store.get<{ sealed: string }>('legal-person:x');
    assert.match(raw!.sealed, new RegExp(`^tb1\\.gm\\.${done.keyId}\\.`));
    await assert.rejects(rotateDataKey({ ...config, crypto: { suite: 'international' } }, store), /crypto\.suite "gm"/);
  });

  it('production: re-seals under the first configured key, generating nothing', async () => {
    const store = createMemoryStore();
    const first = newDataKeyEntry();
    const second = newDataKeyEntry();
    const config = { mode: 'production' as const, keys: { refreshSeconds: 5, dataKeys: [first] } };
    await createSealedRecords(store, createSealer('international', parseDataKeys([first]).keys)).set('identity:a', identity, 'identity');
    const done = await rotateDataKey({ ...config, keys: { ...config.keys, dataKeys: [second, first] } }, store);
    assert.deepEqual({ ...done }, { keyId: second.split(':')[0], added: false, resealed: 1, current: 0, gone: 0 });
    assert.equal(await store.get('keys:data'), undefined);
  });
});

describe('configuration of data keys and suite', () => {
  it('reports a malformed TONGBAN_DATA_KEY and an unknown TONGBAN_CRYPTO_SUITE by key', () => {
    assert.throws(() => loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_DATA_KEY: 'k1:tooshort', TONGBAN_CRYPTO_SUITE: 'rot13' } }), (error: unknown) => {
      const message = (error as Error).message;
      assert.match(message, /keys\.dataKeys\[0\]/);
      assert.match(message, /crypto\.suite/);
      return true;
    });
    const config = loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_DATA_KEY: `${newDataKeyEntry()},${newDataKeyEntry()}`, TONGBAN_CRYPTO_SUITE: 'gm' } });
    assert.equal(config.keys.dataKeys?.length, 2);
    assert.equal(config.crypto?.suite, 'gm');
  });
});

describe('keyed derivations under the 国密 suite', () => {
  it('derives subjects with HMAC-SM3 when asked, HMAC-SHA-256 by default', () => {
    const sm3 = createDerive('secret', 10, 'sm3')('sector', 'subject');
    assert.equal(sm3, cryptoSuite('gm').keyedHash('secret', 'sector', 'subject'));
    assert.equal(createDerive('secret')('sector', 'subject'), cryptoSuite('international').keyedHash('secret', 'sector', 'subject'));
    assert.notEqual(sm3, createDerive('secret')('sector', 'subject'));
  });
});
