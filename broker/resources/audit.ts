/**
 * The audit trail of resource servers: registrations, changes and every token exchange. One store
 * record per entry plus a set listing them, so every broker node and the CLI write the same
 * trail. Entries carry technical identifiers only (client ids, resource identifiers, scopes,
 * levels), never a person's data.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../platform/storage/types.ts';

export type AuditValue = string | number | boolean | readonly string[] | undefined;

export interface AuditEntry {
  readonly id: string;
  /** ISO time. */
  readonly at: string;
  /** Stable event name, e.g. `resource.registered`, `token.exchanged`. */
  readonly event: string;
  /** Who did it: an operator name, `config`, or a client id. */
  readonly actor: string;
  readonly fields: Readonly<Record<string, AuditValue>>;
}

export interface AuditTrail {
  record(event: string, actor: string, fields?: Readonly<Record<string, AuditValue>>): Promise<AuditEntry>;
  /** The most recent entries, newest first. */
  recent(limit?: number): Promise<AuditEntry[]>;
}

export interface AuditTrailOptions {
  /** How long entries are kept, seconds (default 180 days). */
  readonly retentionSeconds?: number;
}

const indexKey = 'audit:resources';
const entryKey = (id: string) => `audit:resources:${id}`;

export function createAuditTrail(store: Store, options: AuditTrailOptions = {}): AuditTrail {
  const ttlMs = (options.retentionSeconds ?? 180 * 24 * 3600) * 1000;
  return {
    async record(event, actor, fields = {}) {
      const at = new Date().toISOString();
      // Time first, so that ids sort in the order entries were written.
      const id = `${at}-${randomBytes(4).toString('hex')}`;
      const entry: AuditEntry = { id, at, event, actor, fields };
      await store.set(entryKey(id), entry, ttlMs);
      await store.addToSet(indexKey, id, ttlMs);
      return entry;
    },
    async recent(limit = 100) {
      const ids = (await store.members(indexKey)).sort().reverse();
      const entries = await store.getMany<AuditEntry>(ids.slice(0, Math.max(0, limit * 2)).map(entryKey));
      const present = entries.filter((entry): entry is AuditEntry => entry !== undefined);
      // Expired entries leave their id behind in the set; tidy those while reading.
      const gone = ids.slice(0, limit * 2).filter((id) => !present.some((entry) => entry.id === id));
      await Promise.all(gone.map((id) => store.removeFromSet(indexKey, id)));
      return present.slice(0, limit);
    },
  };
}
