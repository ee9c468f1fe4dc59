/**
 * The audit trail of resource servers: registrations, changes and every token exchange. Since
 * issue 13 these are entries of the broker's one hash-chained trail (broker/audit), kept without
 * expiry; this module keeps the resource-shaped view (`record`, `recent`) that the CLI's
 * `resource audit` and the tests read. Entries carry technical identifiers only (client ids,
 * resource identifiers, scopes, levels), never a person's data.
 */
import { positionId, storeAuditTrail } from '../audit/store-trail.ts';
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

/** The resource servers' trail (registrations, routes, secrets, token exchanges) on the one trail. */
export function resourceAuditOn(trail: BrokerAuditTrail): AuditTrail {
  return {
    async record(event: string, actor: string, fields: Readonly<Record<string, AuditValue>> = {}): Promise<AuditEntry> {
      // A token exchange hands a token about a person to a service: a release, not an admin change.
      const type = event === 'token.exchanged' ? 'release' : 'admin';
      const client = typeof fields.client_id === 'string' ? fields.client_id : typeof fields.service_client === 'string' ? fields.service_client : undefined;
      const appended = await trail.append({ type, action: event, actor, ...(client ? { client } : {}), details: { area: 'resources', fields } });
      return { id: positionId(appended), at: appended.time, event, actor, fields };
    },
    async recent(limit = 100): Promise<AuditEntry[]> {
      const out: AuditEntry[] = [];
      for (const entry of (await trail.list()).reverse()) {
        if (entry.details?.area !== 'resources') continue;
        out.push({ id: positionId(entry), at: entry.time, event: entry.action, actor: entry.actor ?? '', fields: entry.details.fields as Record<string, AuditValue> });
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}
