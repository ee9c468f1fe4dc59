/**
 * The broker's rate limits by name, over one backend: `hit` counts a request and says whether it
 * may go on; `failed` counts a failed credential and `blocked` says whether a key has had too many.
 * Each limit is decided from this node's synced view of the shared count (./view.ts): a request
 * costs no store round trip; the points are pushed, and the keys in use re-read, every
 * `syncIntervalMs` in the background. Failures are rare and counted in the store at once.
 * Keys are hashed when long or personal, so a copy of the store holds no subject and no address
 * in a readable form beyond what the limiter needs to count.
 */
import { createHash } from 'node:crypto';
import { defaults, type RateLimit, type RateLimits } from '../../../config/defaults.ts';
import type { Logger } from '../log.ts';
import type { LimiterBackend } from './backends.ts';
import { SyncedLimit, syncIntervalMs, type Decision } from './view.ts';

export type ClientLimit = keyof RateLimits['perClient'];
export type AddressLimit = keyof RateLimits['perAddress'];
export type PersonLimit = keyof RateLimits['perPerson'];
export type FailureLimit = keyof RateLimits['failures'];
export type LimitName = `client.${ClientLimit}` | `address.${AddressLimit}` | `person.${PersonLimit}` | `failure.${FailureLimit}`;

/** The answer of a limit: allowed, or refused with the seconds until it may be tried again. */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiters {
  readonly enabled: boolean;
  /** Counts one request against `limit` for `key`. */
  hit(limit: LimitName, key: string): Promise<Verdict>;
  /** Whether `key` has had too many failures (nothing counted). */
  blocked(limit: LimitName, key: string): Promise<Verdict>;
  /** Counts one failure; the verdict says whether the key is now refused. */
  failed(limit: LimitName, key: string): Promise<Verdict>;
  /** Pushes this node's points and re-reads the keys in use now rather than at the next interval. */
  sync(): Promise<void>;
  /** Keys held in this node's views, every limit together (bounded per limit: view.ts). */
  heldKeys(): number;
  /** Pushes the points not yet pushed, then closes the backend. */
  close(): Promise<void>;
}

const allowed: Verdict = { allowed: true };

/** Short, fixed-length keys: client ids can be long, subjects and addresses are personal. */
export function limitKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function verdictOf(decision: Decision): Verdict {
  return decision.allowed ? allowed : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
}

/** Views forget the keys at rest about every ten seconds. */
const sweepEveryTicks = Math.ceil(10_000 / syncIntervalMs);

export function createRateLimiters(options: {
  settings?: RateLimits; backend: LimiterBackend; logger: Logger;
  /** Told of every request a limit refuses (the broker counts them in `tongban_rate_limited_total`). */
  onRefused?: (limit: LimitName) => void;
}): RateLimiters {
  const settings = options.settings ?? defaults.rateLimits;
  const { backend, logger } = options;
  /** A store failure never locks everyone out: the request goes on and the failure is logged. */
  const storeFailed = (name: LimitName, error: unknown, keys?: number): void => {
    logger.warn('rate_limit.unavailable', { limit: name, reason: error instanceof Error ? error.message : String(error), ...(keys ? { keys } : {}) });
  };
  const views = new Map<LimitName, SyncedLimit>();
  const groups = { client: settings.perClient, address: settings.perAddress, person: settings.perPerson, failure: settings.failures } as const;
  for (const [group, table] of Object.entries(groups)) {
    for (const [name, limit] of Object.entries(table as Record<string, RateLimit>)) {
      const full = `${group}.${name}` as LimitName;
      views.set(full, new SyncedLimit(backend.limiter(full, limit), limit, limitKey, (error) => storeFailed(full, error)));
    }
  }
  const of = (name: LimitName) => {
    const view = views.get(name);
    if (!view) throw new Error(`unknown rate limit ${name}`);
    return view;
  };
  /** A refusal the caller acts on: told to `onRefused` by the limit's name. */
  const decided = (name: LimitName, decision: Decision): Verdict => {
    if (!decision.allowed) options.onRefused?.(name);
    return verdictOf(decision);
  };

  /** One sync of every view at a time; a failed push or re-read is logged once per limit. */
  let syncing: Promise<void> | undefined;
  const syncAll = (pushOnly = false) => Promise.all([...views].map(async ([name, view]) => {
    const errors = await view.sync(pushOnly);
    if (errors.length) storeFailed(name, errors[0], errors.length);
  })).then(() => undefined, (error: unknown) => logger.warn('rate_limit.sync_failed', { reason: error instanceof Error ? error.message : String(error) }));
  const syncOnce = (pushOnly = false) => (syncing ??= syncAll(pushOnly).finally(() => {
    syncing = undefined;
  }));
  let ticks = 0;
  const timer = settings.enabled ? setInterval(() => {
    if (syncing) return;
    void syncOnce();
    ticks += 1;
    if (ticks % sweepEveryTicks === 0) for (const view of views.values()) view.sweep();
  }, syncIntervalMs) : undefined;
  timer?.unref();

  return {
    enabled: settings.enabled,
    async hit(name, key) {
      if (!settings.enabled) return allowed;
      return decided(name, of(name).hit(key));
    },
    async blocked(name, key) {
      if (!settings.enabled) return allowed;
      return decided(name, await of(name).check(key));
    },
    async failed(name, key) {
      if (!settings.enabled) return allowed;
      // Counted in the store at once, so that crossing the limit starts the block (`blockSeconds`).
      const { decision, error } = await of(name).count(key);
      if (error !== undefined) storeFailed(name, error);
      return verdictOf(decision);
    },
    async sync() {
      await syncing;
      await syncOnce();
    },
    heldKeys: () => [...views.values()].reduce((sum, view) => sum + view.size, 0),
    async close() {
      clearInterval(timer);
      await syncing;
      if (settings.enabled) await syncOnce(true);
      await backend.close();
    },
  };
}
