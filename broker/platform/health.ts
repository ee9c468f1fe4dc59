/**
 * Health endpoints for load balancers and orchestrators:
 *
 * - `GET /healthz` (liveness): 200 while the process serves requests at all; nothing it depends on
 *   is checked, so a store outage never gets a node restarted for nothing.
 * - `GET /readyz` (readiness): 200 when this node can serve logins: the store answers within
 *   `storeTimeoutMs` and the node is not shutting down; 503 with the reason otherwise, so the
 *   balancer sends traffic elsewhere until the node is ready again.
 */
import type { Context, Next } from 'koa';
import { ErrorCode } from './errors.ts';
import type { Store } from './storage/types.ts';

export interface HealthOptions {
  readonly store: Store;
  /** Bound of the store check: a hung store must not hang the probe (`tunables.readinessStoreTimeoutMs`). */
  readonly storeTimeoutMs: number;
  /** Where the probes answer (`routes.healthz`, `routes.readyz` in config/defaults.ts). */
  readonly paths: { readonly liveness: string; readonly readiness: string };
  /** In development mode /readyz says so (`"mode": "development"`), so no one mistakes the node for a deployment. */
  readonly mode?: 'development' | 'production';
}

export interface Health {
  readonly middleware: (ctx: Context, next: Next) => Promise<void>;
  /** From now on /readyz answers 503 `stopping`. */
  drain(): void;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('store check timed out')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealth(options: HealthOptions): Health {
  const timeoutMs = options.storeTimeoutMs;
  let draining = false;
  return {
    drain() {
      draining = true;
    },
    async middleware(ctx, next) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
      if (ctx.path === options.paths.liveness) {
        ctx.set('cache-control', 'no-store');
        ctx.body = { status: 'ok' };
        return;
      }
      if (ctx.path !== options.paths.readiness) return next();
      ctx.set('cache-control', 'no-store');
      if (draining) {
        ctx.status = 503;
        ctx.body = { status: 'stopping' };
        return;
      }
      try {
        await within(options.store.ping(), timeoutMs);
        ctx.body = { status: 'ready', ...(options.mode === 'development' ? { mode: 'development' } : {}) };
      } catch {
        ctx.status = 503;
        ctx.body = { status: 'unavailable', reason: ErrorCode.storeUnavailable };
      }
    },
  };
}
