/**
 * The registry's and the resource servers' audit trails, folded into the one hash-chained trail.
 * They keep their read APIs (`cities audit`, the admin API's `/audit`, `resource audit`): writes
 * become trail entries (`details.area` says whose), reads list the trail and shape entries back.
 * Where no trail is handed in (the CLIs, tests), `storeAuditTrail` opens the store's own one
 * lazily, under the suite the store records, so every writer lands in the same chain.
 */
import type { AuditEntry as MemberAuditEntry, Actor } from '../members/types.ts';
import type { AuditEntry as ResourceAuditEntry, AuditValue } from '../resources/audit.ts';
import { checkpointSigner, loadStoredCheckpointKey } from '../platform/crypto/checkpoint-keys.ts';
import { cryptoSuite, type CryptoSuiteName } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import type { AuditEntry } from './entry.ts';
import { createAuditTrail, type AuditTrail } from './trail.ts';

/** The audit trail of `store`, opened at first use under the suite the store was written under. */
export function storeAuditTrail(store: Store): AuditTrail {
  let opening: Promise<AuditTrail> | undefined;
  const open = () => (opening ??= (async () => {
    const suite = (await store.get<{ suite: CryptoSuiteName }>('crypto:suite'))?.suite ?? 'international';
    return createAuditTrail({ store, suite: cryptoSuite(suite), signer: checkpointSigner(await loadStoredCheckpointKey(store, suite)) });
  })());
  return {
    checkpointEvery: 100,
    append: async (record) => (await open()).append(record),
    list: async (filter) => (await open()).list(filter),
    read: async () => (await open()).read(),
    verify: async (options) => (await open()).verify(options),
  };
}

const positionId = (entry: AuditEntry) => String(entry.seq).padStart(12, '0');

/** Who acted, as the trail's `actor` string: an id, never a name or a token. */
function actorId(actor: Actor): string {
  switch (actor.kind) {
    case 'operator': return `operator:${actor.id}`;
    case 'cli': return `cli:${actor.user}`;
    case 'dynamic_registration': return `dcr:${actor.client_id}`;
    case 'system': return `system:${actor.reason}`;
  }
}

export interface MemberAuditQuery {
  readonly province?: string;
  readonly city?: string;
  readonly limit?: number;
}

/** The member registry's trail (cities, apps, operators, initial access tokens) on the one trail. */
export function memberAuditOn(trail: AuditTrail) {
  return {
    async appendAudit(entry: Omit<MemberAuditEntry, 'id' | 'at'>): Promise<MemberAuditEntry> {
      const { actor, action, target, city, province, before, after } = entry;
      const appended = await trail.append({
        type: 'admin', action, actor: actorId(actor),
        ...(target.type === 'app' ? { client: target.id } : {}),
        details: { area: 'members', member: { actor, target, ...(city ? { city } : {}), ...(province ? { province } : {}), ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) } },
      });
      return { id: positionId(appended), at: appended.time, ...entry };
    },
    async audit({ province, city, limit = 100 }: MemberAuditQuery = {}): Promise<MemberAuditEntry[]> {
      const out: MemberAuditEntry[] = [];
      for (const entry of (await trail.list({ type: 'admin' })).reverse()) {
        if (entry.details?.area !== 'members') continue;
        const member = { ...(entry.details.member as Omit<MemberAuditEntry, 'id' | 'at' | 'action'>), action: entry.action as MemberAuditEntry['action'] };
        if (province && member.province !== province) continue;
        if (city && member.city !== city) continue;
        out.push({ id: positionId(entry), at: entry.time, ...member });
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}

/** The resource servers' trail (registrations, routes, secrets, token exchanges) on the one trail. */
export function resourceAuditOn(trail: AuditTrail) {
  return {
    async record(event: string, actor: string, fields: Readonly<Record<string, AuditValue>> = {}): Promise<ResourceAuditEntry> {
      // A token exchange hands a token about a person to a service: a release, not an admin change.
      const type = event === 'token.exchanged' ? 'release' : 'admin';
      const client = typeof fields.client_id === 'string' ? fields.client_id : typeof fields.service_client === 'string' ? fields.service_client : undefined;
      const appended = await trail.append({ type, action: event, actor, ...(client ? { client } : {}), details: { area: 'resources', fields } });
      return { id: positionId(appended), at: appended.time, event, actor, fields };
    },
    async recent(limit = 100): Promise<ResourceAuditEntry[]> {
      const out: ResourceAuditEntry[] = [];
      for (const entry of (await trail.list()).reverse()) {
        if (entry.details?.area !== 'resources') continue;
        out.push({ id: positionId(entry), at: entry.time, event: entry.action, actor: entry.actor ?? '', fields: entry.details.fields as Record<string, AuditValue> });
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}
