/**
 * Reading the members' audit trail: a province operator sees its own province's entries only.
 */
import { provinceOf } from '../identity/identifiers.ts';
import { assertProvince } from './actors.ts';
import { checkCode, problem } from './checks.ts';
import type { MemberContext } from './context.ts';
import { RegistryErrorCode } from './errors.ts';
import type { Actor, AuditEntry } from './types.ts';

export interface AuditOperations {
  audit(actor: Actor, query?: { readonly city?: unknown; readonly limit?: unknown }): Promise<AuditEntry[]>;
}

export function createAuditOperations({ records }: MemberContext): AuditOperations {
  return {
    async audit(actor, query = {}) {
      let limit = 100;
      if (query.limit !== undefined) {
        const n = Number(query.limit);
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw problem(RegistryErrorCode.invalidRequest, 'limit', 'must be an integer 1-1000');
        limit = n;
      }
      let city: string | undefined;
      if (query.city !== undefined && query.city !== '') {
        city = checkCode(query.city, 'city');
        assertProvince(actor, provinceOf(city), `city ${city}`);
      }
      const province = actor.kind === 'operator' && actor.role === 'province' ? actor.province : (city ? provinceOf(city) : undefined);
      return records.audit({ ...(province ? { province } : {}), ...(city ? { city } : {}), limit });
    },
  };
}
