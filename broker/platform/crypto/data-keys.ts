/**
 * Data keys (the keys that seal personal data) and the suite marker of a store.
 *
 * Production takes the keys from configuration (`TONGBAN_DATA_KEY` → `keys.dataKeys`, entries
 * `id:base64url-of-32-bytes`, newest first) and never generates; development generates one into the
 * store on first start, like the other development keys, and `rotate-data-key` adds one in front.
 * The store remembers which suite it was written under: identifiers derived and records sealed under
 * one suite mean nothing under the other, so opening it under the other is refused at start.
 */
import { randomBytes } from 'node:crypto';
import { tongbanError, type TongbanError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../storage/types.ts';
import { dataKeyBytes, parseDataKeys, type CryptoSuiteName, type DataKey } from '../../../config/rules/crypto.ts';

export { parseDataKeys, type DataKey } from '../../../config/rules/crypto.ts';

interface StoredDataKeys {
  /** Newest first. */
  readonly keys: ReadonlyArray<{ readonly id: string; readonly secret: string }>;
}

const dataKeysRecord = 'keys:data';
const dataKeysClaim = 'keys:data:generating';
const suiteRecord = 'crypto:suite';
const suiteClaim = 'crypto:suite:writing';

/** A fresh key entry for configuration: `npm run keys -- rotate-data-key` prints one in production. */
export function newDataKeyEntry(now = new Date()): string {
  const id = `d${now.toISOString().slice(0, 10).replaceAll('-', '')}${randomBytes(2).toString('hex')}`;
  return `${id}:${randomBytes(dataKeyBytes).toString('base64url')}`;
}

function keyError(key: 'keys_unusable' | 'crypto_suite_mismatch', reason: string): TongbanError {
  return tongbanError(key, { params: { reason }, detail: reason });
}

function fromStored(stored: StoredDataKeys): DataKey[] {
  return stored.keys.map((key) => ({ id: key.id, secret: Buffer.from(key.secret, 'base64url') }));
}

/**
 * The data keys of this node. `configured` wins when given; without it, production refuses to
 * start and development reads (or generates once, across nodes) the store's keys.
 */
export async function loadDataKeys(options: {
  readonly mode: 'development' | 'production';
  readonly configured?: readonly string[] | undefined;
  readonly store: Store;
  readonly logger: Logger;
}): Promise<DataKey[]> {
  const { store, logger } = options;
  if (options.configured?.length) {
    const { keys, problems } = parseDataKeys(options.configured);
    if (problems.length) throw keyError('keys_unusable', `data keys: ${problems.join('; ')}`);
    return keys;
  }
  if (options.mode === 'production') {
    throw keyError('keys_unusable', 'data keys: keys.dataKeys (TONGBAN_DATA_KEY) is required in production');
  }
  let stored = await store.get<StoredDataKeys>(dataKeysRecord);
  if (!stored) {
    if (await store.claim(dataKeysClaim, 30_000)) {
      const [id, secret] = newDataKeyEntry().split(':') as [string, string];
      stored = { keys: [{ id, secret }] };
      await store.set(dataKeysRecord, stored);
      logger.info('data_key_generated', { keyId: id });
    } else {
      for (let i = 0; i < 100 && !stored; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        stored = await store.get<StoredDataKeys>(dataKeysRecord);
      }
      if (!stored) throw keyError('keys_unusable', 'data keys: another node claimed data key generation but never stored it');
    }
  }
  return fromStored(stored);
}

/** Development: the store's data keys now (newest first), or undefined when the store has none. */
export async function readStoredDataKeys(store: Store): Promise<DataKey[] | undefined> {
  const stored = await store.get<StoredDataKeys>(dataKeysRecord);
  return stored ? fromStored(stored) : undefined;
}

/**
 * Development: writes the keys this node holds back into a store that lost them (a Redis restarted
 * without persistence), after the keys the store holds now, so that every node finds every key
 * a record may be sealed under and none seals under a key only it knows. Resolves with whether
 * it wrote.
 */
export async function restoreDataKeys(store: Store, keys: readonly DataKey[]): Promise<boolean> {
  const stored = await store.get<StoredDataKeys>(dataKeysRecord);
  const held = new Set(stored?.keys.map((key) => key.id));
  const missing = keys.filter((key) => !held.has(key.id)).map((key) => ({ id: key.id, secret: key.secret.toString('base64url') }));
  if (missing.length === 0) return false;
  await store.set(dataKeysRecord, { keys: [...(stored?.keys ?? []), ...missing] } satisfies StoredDataKeys);
  return true;
}

/**
 * Development (keys in the store, none configured): how a node follows the store's data keys.
 * `reread` first writes back what the store lost, then reads the set (for `createSealer`);
 * `restore` writes back only. Production: undefined, the configured keys are all there is.
 */
export function followStoredDataKeys(options: {
  readonly mode: 'development' | 'production';
  readonly configured?: readonly string[] | undefined;
  readonly store: Store;
  readonly keys: readonly DataKey[];
}): { reread(): Promise<DataKey[] | undefined>; restore(): Promise<boolean> } | undefined {
  const { store, keys } = options;
  if (options.mode !== 'development' || options.configured?.length) return undefined;
  return {
    async reread() {
      await restoreDataKeys(store, keys);
      return readStoredDataKeys(store);
    },
    restore: () => restoreDataKeys(store, keys),
  };
}

/** Development: adds a new key in front of the store's keys; returns the ring, newest first. */
export async function addStoredDataKey(store: Store): Promise<DataKey[]> {
  const stored = await store.get<StoredDataKeys>(dataKeysRecord);
  const [id, secret] = newDataKeyEntry().split(':') as [string, string];
  const next: StoredDataKeys = { keys: [{ id, secret }, ...(stored?.keys ?? [])] };
  await store.set(dataKeysRecord, next);
  return fromStored(next);
}

/**
 * Records the suite on a new store, and refuses a store written under the other one: derived
 * subjects and provincial ids would all change, and sealed records would not open.
 */
export async function checkCryptoSuite(store: Store, suite: CryptoSuiteName): Promise<void> {
  let marker = await store.get<{ suite: CryptoSuiteName }>(suiteRecord);
  if (!marker && (await store.claim(suiteClaim, 30_000))) {
    marker = { suite };
    await store.set(suiteRecord, marker);
  }
  for (let i = 0; i < 100 && !marker; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    marker = await store.get<{ suite: CryptoSuiteName }>(suiteRecord);
  }
  if (!marker) throw keyError('crypto_suite_mismatch', 'another node claimed the store but never recorded its suite');
  if (marker.suite !== suite) {
    throw keyError(
      'crypto_suite_mismatch',
      `this store was written under crypto.suite "${marker.suite}" and the configuration asks for "${suite}". ` +
        'Switching suites would change every pairwise subject and provincial id and leave sealed records unreadable; ' +
        `keep crypto.suite "${marker.suite}" or start from a new store.`,
    );
  }
}
