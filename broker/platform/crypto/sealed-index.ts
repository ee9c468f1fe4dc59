/**
 * The index of sealed records, so that a re-seal (`npm run keys -- rotate-data-key`) and the key
 * checks at start find every record a data key still seals.
 *
 * Records are listed by the UTC day they expire: `sealed:index:<YYYY-MM-DD>`, a set that expires
 * itself an hour after its day ends, so a record that expired (identity records are never deleted,
 * they run out) leaves the index with its day instead of staying listed for ever. Records without
 * expiry are listed in `sealed:index:forever` until deleted. The days in use are listed in
 * `sealed:index:days` (each node adds a day when it first lists a record under it, and again a
 * minute later at most), rather than walked from today up to a longest lifetime: lifetimes come
 * from configuration, and a record written under a longer one than today's must still be found. A
 * walk drops days that have passed.
 *
 * Earlier versions listed every record in one set, `sealed:index`, which every write kept alive and
 * so never expired. A walk (and every start, through the key checks) first moves the live records it
 * lists into their days and empties it.
 */
import type { Store } from '../storage/types.ts';

/** The one set of earlier versions; read and emptied by `migrateLegacySealedIndex`. */
export const legacySealedIndex = 'sealed:index';
const foreverSet = 'sealed:index:forever';
const daysSet = 'sealed:index:days';
const dayMs = 86_400_000;
/** A day's set outlives its day by this: a node whose clock is a little behind still finds it. */
const graceMs = 3_600_000;
/** Records read at once while moving the legacy set. */
const chunk = 500;

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const daySet = (day: string) => `${legacySealedIndex}:${day}`;

/** The set that lists a record expiring at `expiresAt` (epoch ms; null: never). */
export function sealedIndexSet(expiresAt: number | null): string {
  return expiresAt === null ? foreverSet : daySet(dayOf(expiresAt));
}

/** A day's set has one end, whichever record is added: its expiry is set without comparing. */
const fixedEnd = { fixedLifetime: true } as const;

/** Until when the set of `expiresAt`'s day must live: the end of that day, and the grace. */
const daySetEnd = (expiresAt: number) => (Math.floor(expiresAt / dayMs) + 1) * dayMs + graceMs;

/**
 * How long a node trusts that a day it listed is still in `sealed:index:days`: a store that lost it
 * (a development Redis restarted without persistence) has the day listed again within this.
 */
const dayListedForMs = 60_000;
// When this process last listed each day, per store: a day costs one more add a minute, not per record.
const listedDays = new WeakMap<Store, Map<string, number>>();

/** Lists `key` under its day (or under `forever`). Before the record is written: a walk must find it. */
export async function indexSealedRecord(store: Store, key: string, expiresAt: number | null): Promise<void> {
  if (expiresAt === null) {
    await store.addToSet(foreverSet, key);
    return;
  }
  const now = Date.now();
  const day = dayOf(expiresAt);
  const ttlMs = Math.max(1, daySetEnd(expiresAt) - now);
  let days = listedDays.get(store);
  if (!days) listedDays.set(store, (days = new Map<string, number>()));
  const listedAt = days.get(day);
  if (listedAt !== undefined && now - listedAt < dayListedForMs) {
    await store.addToSet(daySet(day), key, ttlMs, fixedEnd);
    return;
  }
  await Promise.all([store.addToSet(daysSet, day, ttlMs), store.addToSet(daySet(day), key, ttlMs, fixedEnd)]);
  for (const [known, at] of days) if (now - at >= dayListedForMs) days.delete(known);
  days.set(day, now);
}

/** A record as the index needs it: sealed-records.ts writes `{ sealed, context, expiresAt }`. */
function listedExpiry(record: unknown): number | null | undefined {
  if (typeof record !== 'object' || record === null || typeof (record as { sealed?: unknown }).sealed !== 'string') return undefined;
  const expiresAt = (record as { expiresAt?: unknown }).expiresAt;
  return typeof expiresAt === 'number' ? expiresAt : null;
}

/**
 * Moves the live records of an earlier version's `sealed:index` into their days, and empties it
 * (an empty set is no set). Returns how many it moved. Cheap once done: one read of an absent set.
 */
export async function migrateLegacySealedIndex(store: Store): Promise<number> {
  const keys = await store.members(legacySealedIndex);
  if (keys.length === 0) return 0;
  let moved = 0;
  for (let from = 0; from < keys.length; from += chunk) {
    const part = keys.slice(from, from + chunk);
    const records = await store.getMany<unknown>(part);
    const now = Date.now();
    for (const [i, record] of records.entries()) {
      const expiresAt = listedExpiry(record);
      if (expiresAt === undefined || (expiresAt !== null && expiresAt <= now)) continue;
      await indexSealedRecord(store, part[i]!, expiresAt);
      moved += 1;
    }
    // Member by member, not the whole set: a node of the earlier version may still be adding to it.
    await Promise.all(part.map((key) => store.removeFromSet(legacySealedIndex, key)));
  }
  return moved;
}

/**
 * Every listed key, with the sets that list it (a rewritten record may be listed under its old day
 * too, until that day's set expires). Days before yesterday are dropped from the list of days.
 */
export async function listSealedRecords(store: Store): Promise<Map<string, string[]>> {
  await migrateLegacySealedIndex(store);
  const yesterday = dayOf(Date.now() - dayMs);
  const days = await store.members(daysSet);
  const live = days.filter((day) => day >= yesterday);
  await Promise.all(days.filter((day) => day < yesterday).map((day) => store.removeFromSet(daysSet, day)));
  const sets = [foreverSet, ...live.sort().map(daySet)];
  const listed = new Map<string, string[]>();
  for (const [i, members] of (await Promise.all(sets.map((set) => store.members(set)))).entries()) {
    for (const key of members) listed.set(key, [...(listed.get(key) ?? []), sets[i]!]);
  }
  return listed;
}

/** Unlists a record from every set that lists it (a deleted one: its day's, or `forever`'s). */
export async function unlistSealedRecord(store: Store, key: string, sets: readonly string[]): Promise<void> {
  await Promise.all(sets.map((set) => store.removeFromSet(set, key)));
}
