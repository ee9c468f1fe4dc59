/**
 * Records (`get`, `getMany`, `set`, `delete`) of every backend go through keyv: one code path for
 * serialisation and expiry, whatever the adapter underneath.
 */
import Keyv from 'keyv';
import type { KeyvStoreAdapter } from 'keyv';
import { checkTtl, wholeMs } from './common.ts';

export interface Records {
  readonly keyv: Keyv;
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
}

/**
 * `prefix` is prepended to every key; keyv's own namespacing is switched off so the key written is
 * exactly the key the backend's native primitives and the SQL sweep see.
 */
export function createRecords(adapter: KeyvStoreAdapter | Map<string, unknown>, prefix: string): Records {
  const keyv = new Keyv(adapter, { namespace: undefined, useKeyPrefix: false, throwOnErrors: true });
  // keyv re-emits adapter errors; they also reject the call that hit them, which is where they are handled.
  keyv.on('error', () => undefined);
  return {
    keyv,
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
