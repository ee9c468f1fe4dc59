/**
 * The storage contract. Every piece of state goes through a `Store`: keyv for records, plus a few
 * primitives that must hold across broker nodes (claims, set indexes, logs, counters), implemented
 * natively per backend (Redis commands, SQL statements); each says below what exactly holds.
 */

export type BackendKind = 'memory' | 'sqlite' | 'redis' | 'redis-cluster' | 'postgres';

export interface AddToSetOptions {
  /**
   * The caller's promise that no member of this set ever needs it beyond `ttlMs` from the latest
   * add: every add to the set passes a lifetime at least as long as any member's remaining one (one
   * fixed lifetime for every add, or one fixed end for the whole set), and every add to the set is
   * made so. The expiry may then simply be set to `ttlMs` from now, without comparing it with the
   * current one (Redis: SADD and one PEXPIRE, instead of SADD, PEXPIRE NX and PEXPIRE GT). Backends
   * that compare anyway may ignore it.
   */
  readonly fixedLifetime?: boolean;
}

export interface Store {
  readonly kind: BackendKind;
  /** A record, or undefined when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Several records at once (undefined where absent). */
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>;
  /** Writes a record; `ttlMs` must be a positive number of milliseconds, or undefined for no expiry. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /**
   * Reads a record and deletes it in one atomic step (a take-once read): of several callers on
   * every node sharing the store, exactly one gets the value, the others undefined.
   */
  consume<T>(key: string): Promise<T | undefined>;
  /**
   * Atomically creates `key` if it does not exist (or has expired). Returns true for exactly one
   * caller across every node sharing the store. The basis of everything one-time.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Adds a member to a set and makes the set live at least `ttlMs` from now (undefined: no expiry).
   * What holds on every node: no member added by anyone is lost to another add; a set's expiry only
   * grows, so after several adds, in any interleaving, it ends at the latest end any of them wanted;
   * an expired set comes back with the new member only. Not one atomic step on Redis (SADD and two
   * PEXPIREs, redis.ts): a member added in the instant the set expires may go with it, and a bounded
   * add gives a set without expiry one, so every add to one set is bounded, or none is.
   */
  addToSet(key: string, member: string, ttlMs?: number, options?: AddToSetOptions): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  deleteSet(key: string): Promise<void>;
  /**
   * Append-only logs (the audit trail), never expired by any backend. Appends `entry` at
   * `position` only when the log holds exactly `position` entries now; true for exactly one of
   * several callers racing for the same position, on every node. Atomic.
   */
  appendToLog(log: string, position: number, entry: string): Promise<boolean>;
  /** Up to `count` entries from `from` on, in order. */
  readLog(log: string, from: number, count: number): Promise<string[]>;
  /** The position the next entry takes. */
  logLength(log: string): Promise<number>;
  /**
   * Adds `by` to the counter `field` of the counter group `key` and returns its new value, atomically
   * across every node (the dashboard's per-minute login counts). A counter lives at least `ttlMs`
   * after its last increment; an expired one starts again from zero.
   */
  increment(key: string, field: string, by: number, ttlMs: number): Promise<number>;
  /** Every live counter of a group, by field ({} when none). */
  counters(key: string): Promise<Record<string, number>>;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  /** Removes expired records now (SQL backends also do it periodically). Returns how many. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}
