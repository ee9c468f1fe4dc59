/**
 * Key checks: a wrong but well-formed data key must stop start-up, not fail record by record later.
 *
 * Each data key id that has sealed anything has one small key-check record
 * (`crypto:key-check:<key id>`): a constant sealed under that key, no personal data. The ids are
 * listed in the set `crypto:key-checks`. At start a configured key whose check record does not
 * open is refused, and so is a ring that lacks a key id the store's sealed records still name.
 * Messages name key ids only, never key material.
 */
import { tongbanError, type TongbanError } from '../errors.ts';
import type { Store } from '../storage/types.ts';
import { listSealedRecords, migrateLegacySealedIndex } from './sealed-index.ts';
import type { Sealer } from './sealing.ts';

const checkPrefix = 'crypto:key-check:';
const checkIndex = 'crypto:key-checks';
const checkContext = 'key-check';
const checkValue = 'tongban data key check';

interface KeyCheckRecord {
  readonly sealed: string;
}

function refusal(reason: string): TongbanError {
  return tongbanError('keys_unusable', { params: { reason }, detail: reason });
}

/**
 * Writes the check record of the key that seals now, once per process; called before a record is
 * sealed (sealed-records.ts) and at start.
 */
export function keyCheckWriter(store: Store, sealer: Sealer): () => Promise<void> {
  const written = new Set<string>();
  return async () => {
    const keyId = sealer.sealingKeyId;
    if (written.has(keyId)) return;
    const key = `${checkPrefix}${keyId}`;
    if ((await store.get<KeyCheckRecord>(key)) === undefined) {
      await store.set(key, { sealed: sealer.seal(checkValue, checkContext) } satisfies KeyCheckRecord);
    }
    await store.addToSet(checkIndex, keyId);
    written.add(keyId);
  };
}

/** The key ids the records of the sealed index are still sealed under. */
async function keyIdsOfSealedRecords(store: Store, sealer: Sealer): Promise<Set<string>> {
  const found = new Set<string>();
  for (const key of (await listSealedRecords(store)).keys()) {
    const keyId = sealer.keyIdOf((await store.get<{ sealed?: unknown }>(key))?.sealed);
    if (keyId !== undefined) found.add(keyId);
  }
  return found;
}

/**
 * The start-up check of the data keys against the store. `keyIds`: the configured ring's ids.
 * Throws `keys_unusable` naming the key id when a configured key does not open its check record,
 * or naming the missing ids when sealed records stand under keys the ring lacks.
 */
export async function checkDataKeys(options: { readonly store: Store; readonly sealer: Sealer; readonly keyIds: readonly string[] }): Promise<void> {
  const { store, sealer, keyIds } = options;
  // A store of an earlier version: its one sealed index moves to the index by day, once.
  await migrateLegacySealedIndex(store);
  for (const keyId of keyIds) {
    const record = await store.get<KeyCheckRecord>(`${checkPrefix}${keyId}`);
    if (record === undefined) continue;
    let opens = false;
    try {
      opens = sealer.keyIdOf(record.sealed) === keyId && sealer.open<string>(record.sealed, checkContext) === checkValue;
    } catch {
      opens = false;
    }
    if (!opens) throw refusal(`TONGBAN_DATA_KEY: key ${keyId} does not open this store's records`);
  }
  // The sealed records are walked at most once per check, and only when needed.
  let sealedUnder: Promise<Set<string>> | undefined;
  const stillSealed = () => (sealedUnder ??= keyIdsOfSealedRecords(store, sealer));
  let named = await store.members(checkIndex);
  if (named.length === 0) {
    // A store sealed before key checks existed: learn its key ids from the sealed records once.
    const found = await stillSealed();
    for (const keyId of found) await store.addToSet(checkIndex, keyId);
    named = [...found];
  }
  const missing: string[] = [];
  for (const keyId of named) {
    if (sealer.hasKey(keyId)) continue;
    // Development: another node may have added a key to the store's set since this one read it.
    if ((await sealer.learnKeys()) && sealer.hasKey(keyId)) continue;
    if ((await stillSealed()).has(keyId)) {
      missing.push(keyId);
    } else {
      // Every record it sealed has been re-sealed or has expired: the key is retired.
      await store.removeFromSet(checkIndex, keyId);
      await store.delete(`${checkPrefix}${keyId}`);
    }
  }
  if (missing.length) {
    throw refusal(
      `TONGBAN_DATA_KEY: the store holds records sealed under key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, ` +
        'which the configured keys lack; add them back (after the new key) and run `npm run keys -- rotate-data-key` before removing them',
    );
  }
  await keyCheckWriter(store, sealer)();
}
