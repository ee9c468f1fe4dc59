/**
 * Records (`get`, `getMany`, `set`, `delete`) of every backend go through keyv: one code path for
 * serialisation and expiry, whatever the adapter underneath.
 */
import Keyv from 'keyv';
import type { DeserializedData, KeyvStoreAdapter } from 'keyv';
import { checkTtl, wholeMs } from './common.ts';

/**
 * The stored form: `{"v":<value>,"expires":<epoch ms>}` in plain JSON. keyv's own serializer walks
 * every value in JavaScript and parses it back with a reviver (it escapes strings that start with
 * `:` and encodes Buffers); that was the largest single cost of a store read. `expires` stays at
 * the top, where the SQL sweeps and `keyvExpired` look for it. Records written in keyv's form
 * (`{"value":…}`) are still read as keyv reads them, escapes included, so a store written
 * by an earlier version reads the same. Records hold JSON data only (no Buffers).
 */
const plainPrefix = '{"v":';

/** keyv's own reading of its form: `::x` was the string `:x`, `:base64:` a Buffer. */
function keyvFormReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'string' || !value.startsWith(':')) return value;
  return value.startsWith(':base64:') ? Buffer.from(value.slice(8), 'base64') : value.slice(1);
}

export function serializeRecord(data: DeserializedData<unknown>): string {
  const value = JSON.stringify(data.value ?? null);
  return typeof data.expires === 'number' ? `${plainPrefix}${value},"expires":${data.expires}}` : `${plainPrefix}${value}}`;
}

/** For a backend that expires keys itself (Redis' PX): the expiry in every value would be ≈24 bytes kept for nothing. */
export function serializeRecordWithoutExpiry(data: DeserializedData<unknown>): string {
  return `${plainPrefix}${JSON.stringify(data.value ?? null)}}`;
}

export function deserializeRecord<T>(text: string): DeserializedData<T> | undefined {
  if (!text.startsWith(plainPrefix)) return JSON.parse(text, keyvFormReviver) as DeserializedData<T> | undefined;
  const parsed = JSON.parse(text) as { v: T; expires?: number };
  return { value: parsed.v, ...(typeof parsed.expires === 'number' ? { expires: parsed.expires } : {}) };
}

/** A stored record taken out of the store by a take-once read: its value, unless it had expired. */
export function takenRecord<T>(raw: string | null | undefined, now = Date.now()): T | undefined {
  if (typeof raw !== 'string') return undefined;
  const record = deserializeRecord<T>(raw);
  if (!record || (typeof record.expires === 'number' && now > record.expires)) return undefined;
  return record.value ?? undefined;
}

export interface Records {
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
}

/**
 * `prefix` is prepended to every key; keyv's own namespacing is switched off so the key written is
 * exactly the key the backend's native primitives and the SQL sweep see.
 */
export function createRecords(adapter: KeyvStoreAdapter | Map<string, unknown>, prefix: string, options: { readonly nativeExpiry?: boolean } = {}): Records {
  const serialize = options.nativeExpiry ? serializeRecordWithoutExpiry : serializeRecord;
  const keyv = new Keyv(adapter, { namespace: undefined, useKeyPrefix: false, throwOnErrors: true, serialize, deserialize: deserializeRecord });
  // keyv re-emits adapter errors; they also reject the call that hit them, which is where they are handled.
  keyv.on('error', () => undefined);
  return {
    async get<T>(key: string) {
      return (await keyv.get<T>(prefix + key)) ?? undefined;
    },
    async getMany<T>(keys: readonly string[]) {
      if (keys.length === 0) return [];
      const values = await keyv.getMany<T>(keys.map((key) => prefix + key));
      return values.map((value) => value ?? undefined);
    },
    async set(key: string, value: unknown, ttlMs?: number) {
      checkTtl(ttlMs, 'set');
      // Redis' PX takes whole milliseconds only.
      await keyv.set(prefix + key, value, ttlMs === undefined ? undefined : wholeMs(ttlMs));
    },
    async delete(key: string) {
      return keyv.delete(prefix + key);
    },
  };
}
