/**
 * Sealed records in the store: `set` seals a value under the newest data key, `get` opens it, and
 * every sealed key is listed in the sealed index (sealed-index.ts: by the day it expires) so that
 * `reseal()` (run by `npm run keys -- rotate-data-key`) can re-seal them all under a new key,
 * keeping each record's remaining lifetime.
 *
 * @example
 * const sealed = createSealedRecords(store, sealer);
 * await sealed.set('identity:abc', identity, 'identity', 3_600_000);
 * const identity = await sealed.get<Identity>('identity:abc', 'identity');
 */
import type { Store } from '../storage/types.ts';
import { keyCheckWriter } from './key-checks.ts';
import { indexSealedRecord, listSealedRecords, sealedIndexSet, unlistSealedRecord } from './sealed-index.ts';
import { isSealed, type Sealer } from './sealing.ts';

interface SealedRecord {
  readonly sealed: string;
  readonly context: string;
  /** Epoch milliseconds, or null for no expiry: lets a re-seal keep the remaining lifetime. */
  readonly expiresAt: number | null;
}

export interface SealedRecords {
  set(key: string, value: unknown, context: string, ttlMs?: number): Promise<void>;
  /** Undefined when absent; throws RecordUnsealableError when present and it does not open. */
  get<T>(key: string, context: string): Promise<T | undefined>;
  delete(key: string): Promise<boolean>;
  /** Re-seals every indexed record not sealed by the newest key; returns how many. */
  reseal(): Promise<{ resealed: number; current: number; gone: number }>;
}

function isSealedRecord(value: unknown): value is SealedRecord {
  return typeof value === 'object' && value !== null && isSealed((value as SealedRecord).sealed);
}

export function createSealedRecords(store: Store, sealer: Sealer): SealedRecords {
  // The first record sealed under a key writes that key's check record (key-checks.ts).
  const writeKeyCheck = keyCheckWriter(store, sealer);
  const write = async (key: string, value: unknown, context: string, ttlMs: number | undefined) => {
    await writeKeyCheck();
    const record: SealedRecord = { sealed: sealer.seal(value, context), context, expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs };
    await indexSealedRecord(store, key, record.expiresAt);
    await store.set(key, record, ttlMs);
  };
  return {
    set: (key, value, context, ttlMs) => write(key, value, context, ttlMs),
    async get<T>(key: string, context: string) {
      const record = await store.get<unknown>(key);
      if (record === undefined) return undefined;
      if (!isSealedRecord(record)) return sealer.open<T>('', context);
      const keyId = sealer.keyIdOf(record.sealed);
      // Sealed under a key another node generated after this one read the key set: read it again.
      if (keyId !== undefined && !sealer.hasKey(keyId)) await sealer.learnKeys();
      return sealer.open<T>(record.sealed, context);
    },
    async delete(key) {
      // Taken, so that its expiry names the day that lists it.
      const record = await store.consume<unknown>(key);
      if (isSealedRecord(record)) await unlistSealedRecord(store, key, [sealedIndexSet(record.expiresAt)]);
      return record !== undefined;
    },
    async reseal() {
      let resealed = 0;
      let current = 0;
      let gone = 0;
      for (const [key, sets] of await listSealedRecords(store)) {
        const record = await store.get<unknown>(key);
        if (!isSealedRecord(record)) {
          gone += 1;
          await unlistSealedRecord(store, key, sets);
          continue;
        }
        if (sealer.keyIdOf(record.sealed) === sealer.sealingKeyId) {
          current += 1;
          continue;
        }
        const remaining = record.expiresAt === null ? undefined : record.expiresAt - Date.now();
        if (remaining !== undefined && remaining <= 0) {
          gone += 1;
          continue;
        }
        await write(key, sealer.open(record.sealed, record.context), record.context, remaining);
        resealed += 1;
      }
      return { resealed, current, gone };
    },
  };
}
