/**
 * In-memory backend, for unit tests: one process, nothing shared, nothing kept. Records still go
 * through keyv (over a Map) so their expiry behaves as on the real backends.
 */
import { checkRequiredTtl, checkTtl, keyvExpired } from './common.ts';
import { createRecords } from './records.ts';
import type { Store } from './types.ts';

interface MemorySet {
  readonly members: Set<string>;
  expiresAt: number | undefined;
}

export function createMemoryStore(): Store {
  const recordMap = new Map<string, unknown>();
  const records = createRecords(recordMap, '');
  const claims = new Map<string, number>();
  const sets = new Map<string, MemorySet>();
  const logs = new Map<string, string[]>();
  const counters = new Map<string, Map<string, { value: number; expiresAt: number }>>();

  const liveSet = (key: string, now = Date.now()): MemorySet | undefined => {
    const set = sets.get(key);
    if (set?.expiresAt !== undefined && set.expiresAt <= now) {
      sets.delete(key);
      return undefined;
    }
    return set;
  };

  return {
    kind: 'memory',
    ...records,
    async consume<T>(key: string) {
      const value = await records.get<T>(key);
      // Only the caller whose delete removed it gets the value.
      return value !== undefined && recordMap.delete(key) ? value : undefined;
    },
    async claim(key, ttlMs) {
      checkRequiredTtl(ttlMs, 'claim');
      const now = Date.now();
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && expiresAt > now) return false;
      claims.set(key, now + ttlMs);
      return true;
    },
    async addToSet(key, member, ttlMs) {
      checkTtl(ttlMs, 'addToSet');
      const now = Date.now();
      const wanted = ttlMs === undefined ? undefined : now + ttlMs;
      const set = liveSet(key, now);
      if (!set) {
        sets.set(key, { members: new Set([member]), expiresAt: wanted });
        return;
      }
      set.members.add(member);
      // No expiry on either side wins: "at least ttlMs from now" is satisfied by never expiring.
      set.expiresAt = set.expiresAt === undefined || wanted === undefined ? undefined : Math.max(set.expiresAt, wanted);
    },
    async removeFromSet(key, member) {
      const set = liveSet(key);
      if (!set) return;
      set.members.delete(member);
      if (set.members.size === 0) sets.delete(key);
    },
    async members(key) {
      return [...(liveSet(key)?.members ?? [])];
    },
    async deleteSet(key) {
      sets.delete(key);
    },
    async appendToLog(log, position, entry) {
      const entries = logs.get(log) ?? [];
      if (entries.length !== position) return false;
      entries.push(entry);
      logs.set(log, entries);
      return true;
    },
    async readLog(log, from, count) {
      return (logs.get(log) ?? []).slice(from, from + count);
    },
    async logLength(log) {
      return logs.get(log)?.length ?? 0;
    },
    async increment(key, field, by, ttlMs) {
      checkRequiredTtl(ttlMs, 'increment');
      const now = Date.now();
      const group = counters.get(key) ?? new Map<string, { value: number; expiresAt: number }>();
      counters.set(key, group);
      const current = group.get(field);
      const live = current && current.expiresAt > now ? current : undefined;
      const next = { value: (live?.value ?? 0) + by, expiresAt: Math.max(live?.expiresAt ?? 0, now + ttlMs) };
      group.set(field, next);
      return next.value;
    },
    async counters(key) {
      const now = Date.now();
      const result: Record<string, number> = {};
      for (const [field, { value, expiresAt }] of counters.get(key) ?? []) if (expiresAt > now) result[field] = value;
      return result;
    },
    async ping() {},
    async sweep() {
      const now = Date.now();
      let removed = 0;
      for (const [key, raw] of recordMap) {
        if (keyvExpired(raw, now)) {
          recordMap.delete(key);
          removed += 1;
        }
      }
      for (const [key, expiresAt] of claims) {
        if (expiresAt <= now) {
          claims.delete(key);
          removed += 1;
        }
      }
      for (const [key, group] of counters) {
        for (const [field, { expiresAt }] of group) {
          if (expiresAt <= now) {
            group.delete(field);
            removed += 1;
          }
        }
        if (group.size === 0) counters.delete(key);
      }
      for (const key of sets.keys()) {
        if (!liveSet(key, now)) removed += 1;
      }
      return removed;
    },
    async close() {
      recordMap.clear();
      claims.clear();
      sets.clear();
      logs.clear();
      counters.clear();
    },
  };
}
