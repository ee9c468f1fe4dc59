/**
 * The broker's one audit trail: an append-only, hash-chained log in the shared store, kept without
 * expiry on every backend. Any node appends: it reads the head, builds the next entry on it and
 * asks the store to append at exactly that position (`Store.appendToLog`); a node that lost the
 * race reads the new head and tries again, so concurrent writers always leave one valid chain.
 * Every `checkpointEvery`-th position holds a checkpoint signed over the head before it (ES256, or
 * SM2 under the 国密 suite); whichever node reaches that position first writes it.
 *
 * @example
 * const trail = createAuditTrail({ store, suite: cryptoSuite('international'), signer });
 * await trail.append({ type: 'admin', action: 'app.suspend', actor: 'op-1', client: 'hz-portal' });
 * const verdict = await trail.verify();
 */
import type { CheckpointSigner } from '../platform/crypto/checkpoint-keys.ts';
import type { CryptoSuite } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import { checkpointMessage, genesisHash, sealEntry, type AuditEntry, type AuditEntryType } from './entry.ts';
import { verifyChain, type ChainVerdict } from './verify.ts';

export interface AuditTrailOptions {
  readonly store: Store;
  readonly suite: CryptoSuite;
  readonly signer: CheckpointSigner;
  /** A signed checkpoint at every positive multiple of this position. Default 100. */
  readonly checkpointEvery?: number;
  /** Name of the log in the store. Default `audit`. */
  readonly log?: string;
  readonly now?: () => Date;
}

export interface AuditRecord {
  readonly type: Exclude<AuditEntryType, 'checkpoint'>;
  readonly action: string;
  readonly client?: string;
  readonly actor?: string;
  readonly subject?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditFilter {
  readonly type?: AuditEntryType;
  readonly client?: string;
  /** Entries at or after this time. */
  readonly since?: Date;
}

export interface AuditTrail {
  readonly checkpointEvery: number;
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Entries in order, filtered; unparsable lines are skipped (verify reports them). */
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** The raw entries as stored, in order. */
  read(): Promise<string[]>;
  verify(options?: { readonly trustedSigners?: readonly string[] }): Promise<ChainVerdict>;
}

/** A checkpoint every this many positions, unless a trail is opened with another spacing. */
export const defaultCheckpointEvery = 100;
const readBatch = 500;
const maxAttempts = 200;

export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { store, suite, signer } = options;
  const log = options.log ?? 'audit';
  const checkpointEvery = options.checkpointEvery ?? defaultCheckpointEvery;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 2) throw new RangeError('checkpointEvery must be an integer of at least 2');
  const now = options.now ?? (() => new Date());

  async function head(): Promise<{ position: number; hash: string }> {
    const position = await store.logLength(log);
    if (position === 0) return { position, hash: genesisHash };
    const [last] = await store.readLog(log, position - 1, 1);
    const hash = last ? (JSON.parse(last) as AuditEntry).hash : undefined;
    if (typeof hash !== 'string') throw new Error(`audit trail: the entry at position ${position - 1} is unreadable; run audit verify`);
    return { position, hash };
  }

  async function checkpointAt(position: number, prev: string): Promise<AuditEntry> {
    const message = checkpointMessage(position - 1, prev, suite.hashName);
    return sealEntry(suite, {
      seq: position, time: now().toISOString(), type: 'checkpoint', action: 'checkpoint',
      details: { upTo: position - 1 }, signer: signer.publicKey, signature: await signer.sign(message),
      alg: suite.hashName, prev,
    });
  }

  async function read(): Promise<string[]> {
    const all: string[] = [];
    for (;;) {
      const batch = await store.readLog(log, all.length, readBatch);
      all.push(...batch);
      if (batch.length < readBatch) return all;
    }
  }

  return {
    checkpointEvery,
    async append(record) {
      for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
        const { position, hash } = await head();
        const checkpointDue = position > 0 && position % checkpointEvery === 0;
        const entry = checkpointDue
          ? await checkpointAt(position, hash)
          : sealEntry(suite, { seq: position, time: now().toISOString(), ...record, alg: suite.hashName, prev: hash });
        if (await store.appendToLog(log, position, JSON.stringify(entry))) {
          if (!checkpointDue) return entry;
          continue;
        }
        // Another node took the position: back off a little, then build on the new head.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * Math.min(50, 2 + attempt * 2))));
      }
      throw new Error(`audit trail: could not append after ${maxAttempts} attempts (too many concurrent writers)`);
    },
    async list(filter = {}) {
      const since = filter.since?.getTime();
      const entries: AuditEntry[] = [];
      for (const line of await read()) {
        let entry: AuditEntry;
        try {
          entry = JSON.parse(line) as AuditEntry;
        } catch {
          continue;
        }
        if (filter.type && entry.type !== filter.type) continue;
        if (filter.client && entry.client !== filter.client) continue;
        if (since !== undefined && !(Date.parse(entry.time) >= since)) continue;
        entries.push(entry);
      }
      return entries;
    },
    read,
    async verify(verifyOptions = {}) {
      return verifyChain(await read(), { suite, checkpointEvery, ...verifyOptions });
    },
  };
}
