/**
 * The audit entry and how it is hashed. An entry is one line of JSON; its `hash` is the suite's
 * digest (SHA-256, or SM3 under the 国密 suite) of the canonical form of every other field, and its
 * `prev` is the `hash` of the entry before it (64 zeros for the first), so changing, removing,
 * inserting or reordering any entry breaks the chain at that point.
 */
import type { CryptoSuite } from '../platform/crypto/suite.ts';

export type AuditEntryType = 'admin' | 'release' | 'checkpoint';
export const auditEntryTypes: readonly AuditEntryType[] = ['admin', 'release', 'checkpoint'];

export interface AuditEntry {
  /** Position in the trail, from 0. */
  readonly seq: number;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly type: AuditEntryType;
  /** What happened, e.g. `app.suspend`, `claims.release`. */
  readonly action: string;
  /** The app (client id) or legacy system concerned, when there is one. */
  readonly client?: string;
  /** Who acted: an operator's id, or `system`. Never a person's name. */
  readonly actor?: string;
  /** The person as that app's pairwise `sub`, never an ID number or a name. */
  readonly subject?: string;
  /** Item names, consent record id and the like: never personal data values. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Checkpoints only: the signature over `checkpointMessage(...)` and the signer's public key. */
  readonly signature?: string;
  readonly signer?: string;
  /** `sha256` or `sm3`. */
  readonly alg: string;
  readonly prev: string;
  readonly hash: string;
}

export type UnhashedEntry = Omit<AuditEntry, 'hash'>;

export const genesisHash = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one byte sequence per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(suite: CryptoSuite, entry: UnhashedEntry | AuditEntry): string {
  const { hash: _hash, ...rest } = entry as AuditEntry;
  return suite.digest(canonicalJson(rest));
}

export function sealEntry(suite: CryptoSuite, entry: UnhashedEntry): AuditEntry {
  return { ...entry, hash: entryHash(suite, entry) };
}

/** What a checkpoint signs: the trail up to and including the entry whose hash is `head`. */
export function checkpointMessage(seq: number, head: string, alg: string): string {
  return `tongban-audit-checkpoint\n${alg}\n${seq}\n${head}`;
}
