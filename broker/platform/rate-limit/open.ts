/**
 * Opening the rate limits at start-up: the counters live in the same backend as the store (a limit
 * holds across every node), over a connection of their own that closes with them.
 */
import type { LimitName, RateLimiters } from './limits.ts';
import type { Logger } from '../log.ts';
import type { RateLimits } from '../../../config/defaults.ts';
import { limiterConnectionOf, openLimiterBackend } from './backends.ts';
import { createRateLimiters } from './limits.ts';

export interface OpenedRateLimits {
  readonly rateLimits: RateLimiters;
  /** Closes the limits, then their connection. */
  close(): Promise<void>;
}

export async function openRateLimits(options: {
  /** The store's URL (`memory:` for an in-memory store). */
  readonly storeUrl: string;
  readonly namespace: string;
  readonly settings?: RateLimits;
  readonly logger: Logger;
  readonly onRefused?: (limit: LimitName) => void;
}): Promise<OpenedRateLimits> {
  const link = await limiterConnectionOf(options.storeUrl);
  const rateLimits = createRateLimiters({
    settings: options.settings, logger: options.logger,
    backend: await openLimiterBackend(link.connection, options.namespace),
    onRefused: options.onRefused,
  });
  return {
    rateLimits,
    async close() {
      await rateLimits.close();
      await link.close();
    },
  };
}
