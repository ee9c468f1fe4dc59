/**
 * The broker's rate limits by name, over one backend: `hit` counts a request and says whether it
 * may go on; `failed` counts a failed credential and `blocked` says whether a key has had too many.
 * Keys are hashed when long or personal, so a copy of the store holds no subject and no address
 * in a readable form beyond what the limiter needs to count.
 */
import { createHash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { defaults, type RateLimit, type RateLimits } from '../../../config/defaults.ts';
import type { Logger } from '../log.ts';
import type { LimiterBackend } from './backends.ts';

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
  close(): Promise<void>;
}

const allowed: Verdict = { allowed: true };

/** Short, fixed-length keys: client ids can be long, subjects and addresses are personal. */
export function limitKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function refused(res: RateLimiterRes): Verdict {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
}

export function createRateLimiters(options: {
  settings?: RateLimits; backend: LimiterBackend; logger: Logger;
  /** Told of every request a limit refuses (the broker counts them in `tongban_rate_limited_total`). */
  onRefused?: (limit: LimitName) => void;
}): RateLimiters {
  const settings = options.settings ?? defaults.rateLimits;
  const { backend, logger } = options;
  /** A refusal the caller acts on: told to `onRefused` by the limit's name. */
  const refuse = (name: LimitName, res: RateLimiterRes): Verdict => {
    options.onRefused?.(name);
    return refused(res);
  };
  const limiters = new Map<LimitName, { limiter: RateLimiterAbstract; limit: RateLimit }>();
  const groups = { client: settings.perClient, address: settings.perAddress, person: settings.perPerson, failure: settings.failures } as const;
  for (const [group, table] of Object.entries(groups)) {
    for (const [name, limit] of Object.entries(table as Record<string, RateLimit>)) {
      const full = `${group}.${name}` as LimitName;
      limiters.set(full, { limiter: backend.limiter(full, limit), limit });
    }
  }
  const of = (name: LimitName) => {
    const entry = limiters.get(name);
    if (!entry) throw new Error(`unknown rate limit ${name}`);
    return entry;
  };
  /** A store failure never locks everyone out: the request goes on and the failure is logged. */
  const storeFailed = (name: LimitName, error: unknown): Verdict => {
    logger.warn('rate_limit.unavailable', { limit: name, reason: error instanceof Error ? error.message : String(error) });
    return allowed;
  };

  return {
    enabled: settings.enabled,
    async hit(name, key) {
      if (!settings.enabled) return allowed;
      try {
        await of(name).limiter.consume(limitKey(key));
        return allowed;
      } catch (error) {
        if (error instanceof RateLimiterRes) return refuse(name, error);
        return storeFailed(name, error);
      }
    },
    async blocked(name, key) {
      if (!settings.enabled) return allowed;
      const { limiter, limit } = of(name);
      try {
        const res = await limiter.get(limitKey(key));
        return res && res.consumedPoints > limit.points ? refuse(name, res) : allowed;
      } catch (error) {
        return storeFailed(name, error);
      }
    },
    async failed(name, key) {
      if (!settings.enabled) return allowed;
      // A consume, so that crossing the limit starts the block (`blockSeconds`).
      try {
        await of(name).limiter.consume(limitKey(key));
        return allowed;
      } catch (error) {
        if (error instanceof RateLimiterRes) return refused(error);
        return storeFailed(name, error);
      }
    },
    close: () => backend.close(),
  };
}
