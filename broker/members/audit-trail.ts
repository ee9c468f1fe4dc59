/**
 * The member registry's audit view (cities, apps, operators, initial access tokens) on the broker's
 * one hash-chained trail: writes become admin entries with `details.area` "members", reads shape
 * them back for `cities audit` and the admin API's `/audit`.
 */
import { positionId } from '../audit/store-trail.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { AuditEntry as MemberAuditEntry, Actor } from './types.ts';

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

