/**
 * Small pieces shared by the backends: argument checks that keep every backend's behaviour the
 * same, and the periodic sweep of the SQL backends.
 */
import type { Logger } from '../log.ts';

export interface BackendOptions {
  readonly namespace: string;
  readonly logger: Logger;
}

/** How often the SQL backends remove expired rows on their own. */
export const sweepIntervalMs = 60_000;

/**
 * keyv reads a TTL of 0 as "forever", and a negative or NaN TTL means a corrupt expiry; refuse
 * both so that a caller's arithmetic slip never turns a one-time record into a permanent one.
 */
export function checkTtl(ttlMs: number | undefined, operation: string): void {
  if (ttlMs === undefined) return;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`${operation}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
}

export function checkRequiredTtl(ttlMs: number, operation: string): void {
  if (ttlMs === undefined) throw new RangeError(`${operation}: ttlMs is required`);
  checkTtl(ttlMs, operation);
}

/** Whole milliseconds: Redis PX and SQL intervals take integers; never rounds down to 0. */
export function wholeMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** The scheme of a store URL, lower-cased (`memory`, `sqlite`, `redis+cluster`, ...), or undefined. */
export function storeUrlScheme(url: string): string | undefined {
  return /^([a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
}

export function checkNamespace(namespace: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) {
    throw new Error(`storage namespace must be 1-64 characters of A-Z a-z 0-9 _ . -, got "${namespace}"`);
  }
  return namespace;
}

/**
 * Runs tasks one after another. A SQLite connection has one transaction at a time: without this,
 * a statement issued by another request while a transaction is open would join (and could be
 * rolled back with) that transaction.
 */
export function createSerialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.then(() => undefined, () => undefined);
    return run;
  };
}

/** Starts the periodic sweep; the timer never keeps the process alive. */
export function startSweeper(sweep: () => Promise<number>, logger: Logger, backend: string): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .then((removed) => {
        if (removed > 0) logger.debug('storage.swept', { backend, removed });
      })
      .catch((error: unknown) => {
        logger.warn('storage.sweep_failed', { backend, reason: errorMessage(error) });
      })
      .finally(() => {
        running = false;
      });
  }, sweepIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Keyv's stored form is `{"value": ..., "expires": epochMs}`; expired when now > expires. */
export function keyvExpired(raw: unknown, now: number): boolean {
  if (typeof raw !== 'string') return false;
  try {
    const parsed = JSON.parse(raw) as { expires?: unknown };
    return typeof parsed.expires === 'number' && now > parsed.expires;
  } catch {
    return false;
  }
}
