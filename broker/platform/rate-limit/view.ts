/**
 * A node's synced view of one shared limit. The counting stays rate-limiter-flexible's, on the
 * store's backend, so every node counts against the same numbers; what a node keeps, per key, is
 * the shared count the store last answered, when that count lapses (the end of its window or of a
 * block), and the points it counted itself and has not pushed yet. A request is decided from that
 * view at once, with no store round trip; every `syncIntervalMs` the node pushes its points with
 * one `consume(key, points)` per key, whose answer is the shared count again, and re-reads the keys
 * it checked since the last push. Across N nodes a limit is thus exceeded by at most what each
 * other node lets through before it hears of the count: about one interval's requests
 * (docs/security.md).
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../../../config/defaults.ts';

/**
 * How often a node pushes the points it counted and re-reads the keys it checked, ms: how late a
 * node hears of the others' counts, and of a block another node started.
 */
export const syncIntervalMs = 200;

/** A checked key whose view is older than this is read again before it answers (a key at rest). */
const staleAfterMs = 2 * syncIntervalMs;

/**
 * Keys one limit keeps in memory: beyond, the least recently used go, a tenth at a time (their
 * points are still pushed). A key dropped is only read or pushed again when it comes back.
 */
export const maxKeysPerLimit = 10_000;

/** Keys longer than this are held by their hash. */
const maxHeldKeyLength = 64;

/** The decision of a view: allowed, or refused for so many ms. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

interface Entry {
  /** The key as the caller names it (held in this process only). */
  readonly key: string;
  /** The key in the store: hashed once, when the key is new here. */
  readonly storeKey: string;
  /** The shared count the store last answered (this node's pushed points included). */
  shared: number;
  /** When that count lapses, epoch ms; 0 when the store holds none. */
  until: number;
  /** Points counted here and not yet pushed. */
  pending: number;
  /** Points on their way to the store. */
  inFlight: number;
  /** When the store last answered for the key, epoch ms (0: never). */
  syncedAt: number;
  /** Store calls sent for the key, and the latest one whose answer is in the view. */
  sent: number;
  applied: number;
  /** The read of a key new or at rest, shared by whoever checks it meanwhile. */
  reading?: Promise<void>;
}

const allowed: Decision = { allowed: true };

export class SyncedLimit {
  readonly #entries = new Map<string, Entry>();
  /** Keys with points to push. */
  readonly #dirty = new Set<Entry>();
  /** Keys checked since the last sync: re-read at the next. */
  readonly #checked = new Set<Entry>();

  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly limit: RateLimit,
    /** The store's key for a key (hashed: the store holds no address or subject readable). */
    private readonly storeKey: (key: string) => string,
    /** Told of a failed read on the request path (a failed push or re-read is returned by `sync`). */
    private readonly onStoreError: (error: unknown) => void,
  ) {}

  /** Keys held in memory. */
  get size(): number {
    return this.#entries.size;
  }

  /** Counts one request here and decides from the view: never waits for the store. */
  hit(key: string): Decision {
    const entry = this.#touch(key);
    // Refused on a count the store has already put over the limit: nothing more to tell it (a
    // flood refused here costs the store nothing). Otherwise counted, so that the push which
    // crosses the limit starts the block, as a consume of its own would.
    if (!(Date.now() < entry.until && entry.shared > this.limit.points)) {
      entry.pending += 1;
      this.#dirty.add(entry);
    }
    return this.#decide(entry);
  }

  /**
   * Decides from the view without counting. A key new to this node, or not checked for a while, is
   * read from the store first; a key in use is served from the view and re-read in the background.
   */
  async check(key: string): Promise<Decision> {
    const entry = this.#touch(key);
    if (Date.now() - entry.syncedAt > staleAfterMs) {
      entry.reading ??= this.#read(entry).then((error) => {
        if (error !== undefined) this.onStoreError(error);
      }).finally(() => {
        entry.reading = undefined;
      });
      await entry.reading;
    }
    this.#checked.add(entry);
    return this.#decide(entry);
  }

  /**
   * Counts one point in the store at once (a failure: rare, and the one that crosses the limit
   * starts the block), and updates the view from the answer. Resolves to the store's error, if any.
   */
  async count(key: string): Promise<{ decision: Decision; error?: unknown }> {
    const entry = this.#touch(key);
    const points = 1 + entry.pending;
    entry.pending = 0;
    const error = await this.#consume(entry, points);
    return error === undefined ? { decision: this.#decide(entry) } : { decision: allowed, error };
  }

  /**
   * Pushes the points counted here and re-reads the keys checked since the last sync (not on the
   * way out: `pushOnly`). Resolves to the store's errors; the points of a failed push are dropped,
   * as a request is let through when the store fails.
   */
  async sync(pushOnly = false): Promise<unknown[]> {
    const work: Array<Promise<unknown>> = [];
    const pushed = new Set<Entry>();
    for (const entry of this.#dirty) {
      // Still on its way from a failure counted meanwhile: pushed next time.
      if (entry.inFlight > 0) continue;
      this.#dirty.delete(entry);
      const points = entry.pending;
      entry.pending = 0;
      if (points > 0) {
        work.push(this.#consume(entry, points));
        pushed.add(entry);
      }
    }
    const now = Date.now();
    for (const entry of this.#checked) {
      this.#checked.delete(entry);
      // A push answers with the count too; a key read just now (new here) is fresh enough.
      const fresh = pushed.has(entry) || entry.reading || now - entry.syncedAt < syncIntervalMs / 2;
      if (!pushOnly && !fresh) work.push(this.#read(entry));
    }
    return (await Promise.all(work)).filter((error) => error !== undefined);
  }

  /** Forgets the keys whose count has lapsed and that are at rest: memory follows the keys in use. */
  sweep(now = Date.now()): void {
    for (const entry of this.#entries.values()) {
      if (now >= entry.until && now - entry.syncedAt > staleAfterMs && this.#idle(entry)) this.#entries.delete(entry.key);
    }
  }

  #idle(entry: Entry): boolean {
    return entry.pending === 0 && entry.inFlight === 0 && !entry.reading && !this.#checked.has(entry);
  }

  /** The key's entry, made the most recently used; a new one when the key is new here. */
  #touch(given: string): Entry {
    // A long key (a made-up client id can run to kilobytes) is held by its store key: the memory
    // of the view stays bounded by the number of keys. A short one is hashed only when new here.
    const hashed = given.length > maxHeldKeyLength ? this.storeKey(given) : undefined;
    const key = hashed === undefined ? given : `#${hashed}`;
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
    } else {
      entry = { key, storeKey: hashed ?? this.storeKey(given), shared: 0, until: 0, pending: 0, inFlight: 0, syncedAt: 0, sent: 0, applied: 0 };
      if (this.#entries.size >= maxKeysPerLimit) this.#evict();
    }
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Drops the least recently used tenth, so that a flood of new keys pays for eviction rarely. An
   * entry with points to push stays in `#dirty` until the next sync pushes them.
   */
  #evict(): void {
    let left = Math.ceil(maxKeysPerLimit / 10);
    for (const entry of this.#entries.values()) {
      if (left-- <= 0) break;
      this.#entries.delete(entry.key);
      this.#checked.delete(entry);
    }
  }

  #decide(entry: Entry): Decision {
    const now = Date.now();
    const shared = now < entry.until ? entry.shared : 0;
    if (shared + entry.inFlight + entry.pending <= this.limit.points) return allowed;
    // Counted here only so far: the store's window (or block) starts with the push.
    const retryAfterMs = entry.until > now ? entry.until - now : (this.limit.blockSeconds ?? this.limit.durationSeconds) * 1000;
    return { allowed: false, retryAfterMs };
  }

  /** Takes a store answer into the view, unless a later call's answer is there already. */
  #apply(entry: Entry, call: number, res: RateLimiterRes | null): void {
    if (call < entry.applied) return;
    entry.applied = call;
    const now = Date.now();
    entry.syncedAt = now;
    entry.shared = res?.consumedPoints ?? 0;
    entry.until = res ? now + Math.max(0, res.msBeforeNext) : 0;
  }

  /** `consume(key, points)` on the shared limiter; over the limit is an answer too (thrown). */
  async #consume(entry: Entry, points: number): Promise<unknown> {
    const call = (entry.sent += 1);
    entry.inFlight += points;
    try {
      this.#apply(entry, call, await this.limiter.consume(entry.storeKey, points));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) return error;
      this.#apply(entry, call, error);
    } finally {
      entry.inFlight -= points;
    }
    return undefined;
  }

  async #read(entry: Entry): Promise<unknown> {
    const call = (entry.sent += 1);
    try {
      this.#apply(entry, call, await this.limiter.get(entry.storeKey));
      return undefined;
    } catch (error) {
      // Not read again on every request while the store is down: the view stands until the next try.
      entry.syncedAt = Date.now();
      return error;
    }
  }
}
