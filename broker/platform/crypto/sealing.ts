/**
 * Sealing of personal data at rest: a record is serialised, encrypted with authenticated encryption
 * under the newest data key, and stored as one string that names its format, suite and key id:
 *
 *     tb1.<suite>.<keyId>.<base64url(sealed bytes)>
 *
 * Every key of the ring opens; only the first seals, so adding a key (rotation) never strands an
 * old record. The record's context (its purpose, e.g. `identity`) is bound as associated data, so a
 * sealed value copied under another purpose does not open. A value that fails to open throws
 * `RecordUnsealableError` naming the key id: never a partial record, never plaintext.
 */
import { TongbanError } from '../errors.ts';
import { cryptoSuite, type CryptoSuite, type CryptoSuiteName } from './suite.ts';
import type { DataKey } from './data-keys.ts';

const format = 'tb1';

export class RecordUnsealableError extends TongbanError {
  readonly keyId: string;
  constructor(keyId: string, reason: string) {
    super('record_unsealable', {
      detail: `record sealed under key "${keyId}" does not open: ${reason}`,
    });
    this.name = 'RecordUnsealableError';
    this.keyId = keyId;
  }
}

export interface Sealer {
  readonly suite: CryptoSuiteName;
  /** Id of the key that seals now. */
  readonly sealingKeyId: string;
  seal(value: unknown, context: string): string;
  /** Throws RecordUnsealableError on a wrong key, a changed byte, another context or suite. */
  open<T>(sealed: string, context: string): T;
  /** The key id a sealed value names, or undefined when it is not a sealed value. */
  keyIdOf(sealed: unknown): string | undefined;
  /** Whether a key of this id opens here. */
  hasKey(keyId: string): boolean;
  /**
   * Re-reads the key set (development: the store's, which another node may have added to) and
   * learns the keys it did not know; resolves with whether it learnt any. Without a source: false.
   */
  learnKeys(): Promise<boolean>;
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(`${format}.`);
}

/**
 * `keys` newest first: the first seals, all open. `reload` reads the current key set again, for a
 * record sealed under a key another node generated after this one started.
 */
export function createSealer(suiteName: CryptoSuiteName, keys: readonly DataKey[], reload?: () => Promise<readonly DataKey[] | undefined>): Sealer {
  const suite: CryptoSuite = cryptoSuite(suiteName);
  const first = keys[0];
  if (!first) throw new Error('sealing needs at least one data key');
  const byId = new Map(keys.map((key) => [key.id, key.secret]));
  const associated = (keyId: string, context: string) => Buffer.from(`${format}\u0000${suite.name}\u0000${keyId}\u0000${context}`);

  return {
    suite: suite.name,
    sealingKeyId: first.id,
    seal(value, context) {
      const plaintext = Buffer.from(JSON.stringify(value ?? null));
      const sealed = suite.seal(first.secret, plaintext, associated(first.id, context));
      return `${format}.${suite.name}.${first.id}.${sealed.toString('base64url')}`;
    },
    open<T>(sealed: string, context: string): T {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      const keyId = parts[2] ?? 'unknown';
      if (parts.length !== 4 || parts[0] !== format) throw new RecordUnsealableError(keyId, 'not a sealed value');
      if (parts[1] !== suite.name) throw new RecordUnsealableError(keyId, `sealed under suite "${parts[1]}", this broker runs "${suite.name}"`);
      const secret = byId.get(keyId);
      if (!secret) throw new RecordUnsealableError(keyId, 'no such data key configured');
      let plaintext: Buffer;
      try {
        plaintext = suite.open(secret, Buffer.from(parts[3]!, 'base64url'), associated(keyId, context));
      } catch (error) {
        throw new RecordUnsealableError(keyId, (error as Error).message);
      }
      return JSON.parse(plaintext.toString('utf8')) as T;
    },
    keyIdOf(sealed) {
      if (!isSealed(sealed)) return undefined;
      return sealed.split('.')[2];
    },
    hasKey: (keyId) => byId.has(keyId),
    async learnKeys() {
      if (!reload) return false;
      let learnt = false;
      for (const key of (await reload()) ?? []) {
        if (byId.has(key.id)) continue;
        byId.set(key.id, key.secret);
        learnt = true;
      }
      return learnt;
    },
  };
}
