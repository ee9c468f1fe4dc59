/**
 * Where the rate-limit counters live: the backend that matches the broker's store, so every node
 * counts against the same numbers (rate-limiter-flexible's Redis, PostgreSQL and SQLite limiters;
 * its memory limiter only for the `memory:` store of unit tests, which is one process anyway).
 *
 * The counters use the store's own connection where the store hands it out (`LimiterConnection`),
 * or a small connection of their own opened from the store URL (`limiterConnectionOf`).
 */
import { createClient, createCluster } from '@keyv/redis';
import pg, { type Pool } from 'pg';
import {
  RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import sqlite3 from 'sqlite3';
import type { RateLimit } from '../../../config/defaults.ts';
import { createSerialQueue, storeUrlScheme, sweepIntervalMs } from '../storage/common.ts';
import { clusterRootUrls } from '../storage/redis.ts';
import { sqlitePath } from '../storage/sqlite.ts';

/** A connection the limiters can count on (node-redis client or cluster, pg pool, SQLite file). */
export type LimiterConnection =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis' | 'redis-cluster'; readonly client: unknown }
  | { readonly kind: 'postgres'; readonly pool: Pool }
  | { readonly kind: 'sqlite'; readonly path: string };

export interface LimiterBackend {
  readonly kind: LimiterConnection['kind'];
  /** A limiter named `name` (its keys are apart from every other limiter's). */
  limiter(name: string, limit: RateLimit): RateLimiterAbstract;
  /** Ends what this backend opened itself (a connection handed in stays open). */
  close(): Promise<void>;
}

/** The table of the SQL backends; one for every limiter, keys carry the limiter's prefix. */
export const rateLimitTable = 'tongban_rate_limits';

/**
 * rate-limiter-flexible's counting script for Redis, one command lighter: its own runs SET NX, INCRBY
 * and PTTL on every consume; here INCRBY tells a new key (its count is the points just added), which
 * gets its expiry, from a known one, whose PTTL is read. The same window, two commands a push.
 */
const incrTtlScript = `local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = -1
if consumed ~= tonumber(ARGV[1]) then ttl = redis.call('pttl', KEYS[1]) end
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

function options(namespace: string, name: string, limit: RateLimit) {
  return {
    keyPrefix: `${namespace}:rl:${name}`,
    points: limit.points,
    duration: limit.durationSeconds,
    ...(limit.blockSeconds ? { blockDuration: limit.blockSeconds } : {}),
  };
}

function openSqlite(path: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, (error) => {
      if (error) reject(error);
      else {
        // Several processes share the file: wait for the writer rather than fail.
        db.configure('busyTimeout', 5_000);
        resolve(db);
      }
    });
  });
}

/** Creates the SQL table once, so the many limiters never race to create it. */
async function prepareSql(connection: LimiterConnection, db?: sqlite3.Database): Promise<void> {
  const ddl = `CREATE TABLE IF NOT EXISTS ${rateLimitTable} (key VARCHAR(255) PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire BIGINT)`;
  if (connection.kind === 'postgres') {
    await connection.pool.query(ddl).catch((error: { code?: string }) => {
      // Two nodes creating the table at once: the other one won.
      if (error.code !== '23505') throw error;
    });
  } else if (db) {
    await new Promise<void>((resolve, reject) => db.run(ddl, (error) => (error ? reject(error) : resolve())));
  }
}

type SerialQueue = ReturnType<typeof createSerialQueue>;

/**
 * rate-limiter-flexible runs each SQLite count as SAVEPOINT, the upsert, then RELEASE, in callbacks
 * on the one connection. Two counts at once interleave their savepoints, and a count that fails
 * (SQLITE_BUSY while another process writes) rolls back to its savepoint without releasing it: the
 * transaction stays open and the file stays locked for every other process (a CLI, another node).
 * So the counts on a connection run one at a time, and a failed one ends what it left open.
 */
function oneAtATime(limiter: RateLimiterSQLite, db: sqlite3.Database, serially: SerialQueue): RateLimiterSQLite {
  const endOpenTransaction = () => new Promise<void>((resolve) => db.run('RELEASE SAVEPOINT rate_limiter_trx', () => resolve()));
  for (const method of ['consume', 'get'] as const) {
    const original = limiter[method].bind(limiter) as (...args: unknown[]) => Promise<unknown>;
    (limiter as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => serially(() => original(...args).catch(async (error: unknown) => {
      // Over the limit is an answer, not a failure: nothing was left open.
      if (!(error instanceof RateLimiterRes)) await endOpenTransaction();
      throw error;
    }));
  }
  return limiter;
}

/**
 * Opens the limiters' backend on a connection. Expired counters are swept every minute by the
 * SQL backends (Redis expires its keys itself).
 */
export async function openLimiterBackend(connection: LimiterConnection, namespace: string): Promise<LimiterBackend> {
  const closers: Array<() => Promise<void>> = [];
  let sweep: (() => Promise<unknown>) | undefined;
  let make: (name: string, limit: RateLimit) => RateLimiterAbstract;
  switch (connection.kind) {
    case 'memory':
      make = (name, limit) => new RateLimiterMemory(options(namespace, name, limit));
      break;
    case 'redis':
    case 'redis-cluster':
      // node-redis v5 (what @keyv/redis ships): `eval` with keys, one key per command, so a cluster works too.
      make = (name, limit) => new RateLimiterRedis({
        ...options(namespace, name, limit), storeClient: connection.client, useRedisPackage: true, rejectIfRedisNotReady: false,
        customIncrTtlLuaScript: incrTtlScript,
      });
      break;
    case 'postgres': {
      await prepareSql(connection);
      make = (name, limit) => new RateLimiterPostgres({
        ...options(namespace, name, limit), storeClient: connection.pool, storeType: 'pool',
        tableName: rateLimitTable, tableCreated: true, clearExpiredByTimeout: false,
      });
      sweep = () => connection.pool.query(`DELETE FROM ${rateLimitTable} WHERE expire < $1`, [Date.now()]);
      break;
    }
    case 'sqlite': {
      const db = await openSqlite(connection.path);
      closers.push(() => new Promise<void>((resolve) => db.close(() => resolve())));
      await prepareSql(connection, db);
      const serially = createSerialQueue();
      make = (name, limit) => oneAtATime(new RateLimiterSQLite({
        ...options(namespace, name, limit), storeClient: db, storeType: 'sqlite3',
        tableName: rateLimitTable, tableCreated: true, clearExpiredByTimeout: false,
      }), db, serially);
      sweep = () => new Promise<void>((resolve) => db.run(`DELETE FROM ${rateLimitTable} WHERE expire < ?`, [Date.now()], () => resolve()));
      break;
    }
    default:
      throw new Error(`no rate-limit backend for store kind ${(connection as { kind: string }).kind}`);
  }
  if (sweep) {
    const run = sweep;
    const timer = setInterval(() => void run().catch(() => undefined), sweepIntervalMs);
    timer.unref();
    closers.unshift(async () => clearInterval(timer));
  }
  return {
    kind: connection.kind,
    limiter: make,
    async close() {
      // Each closer once, and none may throw (stop() never fails on a limiter).
      while (closers.length) await closers.shift()!().catch(() => undefined);
    },
  };
}

/**
 * A close that runs once and never throws: a broker's stop() must end, whatever state the
 * connection is in (already closed by a failed start, closing twice, the server gone).
 */
function closeOnce(close: () => Promise<unknown>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= Promise.resolve().then(close).then(() => undefined, () => undefined));
}

/** node-redis: `close` waits for replies in flight; `destroy` drops them; both throw once closed. */
async function endRedis(client: { readonly isOpen: boolean; close(): Promise<unknown>; destroy(): unknown }): Promise<void> {
  if (!client.isOpen) return;
  try {
    await client.close();
  } catch {
    if (client.isOpen) client.destroy();
  }
}

/**
 * A connection of the limiters' own, from the store URL (for a store that does not hand out its
 * connection, and for tools). `close` ends it.
 */
export async function limiterConnectionOf(url: string): Promise<{ connection: LimiterConnection; close(): Promise<void> }> {
  const scheme = storeUrlScheme(url);
  switch (scheme) {
    case 'memory':
      return { connection: { kind: 'memory' }, close: async () => undefined };
    case 'sqlite':
      return { connection: { kind: 'sqlite', path: sqlitePath(url) }, close: async () => undefined };
    case 'redis':
    case 'rediss': {
      const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 3_000 } });
      client.on('error', () => undefined);
      await client.connect();
      return { connection: { kind: 'redis', client }, close: closeOnce(() => endRedis(client)) };
    }
    case 'redis+cluster':
    case 'rediss+cluster': {
      const cluster = createCluster({ rootNodes: clusterRootUrls(url).map((nodeUrl) => ({ url: nodeUrl })), defaults: { disableOfflineQueue: true } });
      cluster.on('error', () => undefined);
      await cluster.connect();
      return { connection: { kind: 'redis-cluster', client: cluster }, close: closeOnce(() => endRedis(cluster)) };
    }
    case 'postgres':
    case 'postgresql': {
      const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3_000 });
      pool.on('error', () => undefined);
      return { connection: { kind: 'postgres', pool }, close: closeOnce(() => pool.end()) };
    }
    default:
      throw new Error(`unknown store URL scheme "${scheme ?? ''}"`);
  }
}
