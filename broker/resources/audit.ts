/**
 * The audit trail of resource servers: registrations, changes and every token exchange. Since
 * issue 13 these are entries of the broker's one hash-chained trail (broker/audit), kept without
 * expiry; this module keeps the resource-shaped view (`record`, `recent`) that the CLI's
 * `resource audit` and the tests read. Entries carry technical identifiers only (client ids,
 * resource identifiers, scopes, levels), never a person's data.
 */
import { resourceAuditOn, storeAuditTrail } from '../audit/folded.ts';
import type { AuditTrail as BrokerAuditTrail } from '../audit/trail.ts';
import type { Store } from '../platform/storage/types.ts';

export type AuditValue = string | number | boolean | readonly string[] | undefined;

export interface AuditEntry {
  /** The entry's position in the broker's trail (zero-padded, so ids sort in order). */
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
  /** The broker's trail; default the store's own (opened at first use). */
  readonly trail?: BrokerAuditTrail;
}

export function createAuditTrail(store: Store, options: AuditTrailOptions = {}): AuditTrail {
  return resourceAuditOn(options.trail ?? storeAuditTrail(store));
}
