/**
 * Verification of the audit chain, pure over the entries as read from the store: each entry must
 * parse, sit at the position its `seq` names, carry the previous entry's hash in `prev` and its
 * own recomputed hash in `hash`; every checkpoint must sit where one is due and be signed by a
 * trusted key. The answer names the first entry that fails and why.
 */
import { verifyCheckpointSignature } from '../platform/crypto/checkpoint-keys.ts';
import type { CryptoSuite } from '../platform/crypto/suite.ts';
import { auditEntryTypes, checkpointMessage, entryHash, genesisHash, type AuditEntry } from './entry.ts';

export type ChainVerdict =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly head: string }
  | { readonly ok: false; readonly position: number; readonly seq: number | undefined; readonly reason: string };

export interface VerifyOptions {
  readonly suite: CryptoSuite;
  /** A checkpoint is due at every position that is a positive multiple of this. */
  readonly checkpointEvery: number;
  /** Public keys whose checkpoint signatures are accepted; empty or absent accepts any valid one. */
  readonly trustedSigners?: readonly string[];
}

function parse(raw: string): AuditEntry | undefined {
  try {
    const entry = JSON.parse(raw) as AuditEntry;
    return typeof entry === 'object' && entry !== null ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** Checks `raw` entries (as stored, in storage order) starting at position 0. */
export async function verifyChain(raw: readonly string[], options: VerifyOptions): Promise<ChainVerdict> {
  const { suite, checkpointEvery } = options;
  const trusted = options.trustedSigners?.length ? new Set(options.trustedSigners) : undefined;
  let prev = genesisHash;
  let checkpoints = 0;
  for (const [position, line] of raw.entries()) {
    const entry = parse(line);
    const fail = (reason: string): ChainVerdict => ({ ok: false, position, seq: typeof entry?.seq === 'number' ? entry.seq : undefined, reason });
    if (!entry) return fail('not a JSON entry');
    if (entry.seq !== position) {
      return fail(entry.seq > position
        ? `seq ${entry.seq} found at position ${position}: an entry before it was removed or the order changed`
        : `seq ${entry.seq} found at position ${position}: an entry was inserted or the order changed`);
    }
    if (entry.prev !== prev) return fail('prev does not match the hash of the entry before it: an entry was inserted, removed or reordered');
    if (entry.alg !== suite.hashName) return fail(`hashed with ${String(entry.alg)}, this trail uses ${suite.hashName}`);
    if (entryHash(suite, entry) !== entry.hash) return fail('hash does not match the content: the entry was changed');
    if (!auditEntryTypes.includes(entry.type)) return fail(`unknown type "${String(entry.type)}"`);
    const due = position > 0 && position % checkpointEvery === 0;
    if (due !== (entry.type === 'checkpoint')) {
      return fail(due ? 'a checkpoint is due at this position' : 'a checkpoint where none is due');
    }
    if (entry.type === 'checkpoint') {
      if (typeof entry.signer !== 'string' || typeof entry.signature !== 'string') return fail('checkpoint without a signature');
      if (trusted && !trusted.has(entry.signer)) return fail('checkpoint signed by an untrusted key');
      const message = checkpointMessage(position - 1, entry.prev, entry.alg);
      if (!(await verifyCheckpointSignature(suite.name, entry.signer, message, entry.signature))) return fail('checkpoint signature does not verify');
      checkpoints += 1;
    }
    prev = entry.hash;
  }
  return { ok: true, entries: raw.length, checkpoints, head: prev };
}
