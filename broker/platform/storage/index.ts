/**
 * Opens the store named by a URL:
 *
 * - `memory:` in-process, for unit tests
 * - `sqlite:./data/tongban.sqlite` a file, created with its folder; several processes may share it
 * - `redis://host:port[/db]` (or `rediss://`) one Redis server
 * - `redis+cluster://host:port,host:port` (or `rediss+cluster://`) a Redis Cluster, by its seed nodes
 * - `postgres://…` / `postgresql://…` PostgreSQL; tables are created on first start
 *
 * Every key is prefixed with `namespace` (default `tongban`), so deployments or tests sharing a
 * server stay apart. The returned store has been reached once: an unreachable backend makes this
 * reject (within a few seconds) rather than the first request. Afterwards, while the backend is
 * down, every method rejects promptly and the store reconnects by itself.
 *
 * @example
 * const store = await createStore('sqlite:./data/tongban.sqlite', { logger });
 * if (await store.claim(`ticket:${id}`, 60_000)) { … first use … }
 * await store.close();
 */
import { createLogger, type Logger } from '../log.ts';
import { checkNamespace, storeUrlScheme } from './common.ts';
import { createMemoryStore } from './memory.ts';
import { createPostgresStore } from './postgres.ts';
import { createRedisStore } from './redis.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export type { BackendKind, Store } from './types.ts';

export interface StoreOptions {
  /** Prefix of every key; letters, digits, `_`, `.`, `-`. Default `tongban`. */
  readonly namespace?: string;
  readonly logger?: Logger;
}

export async function createStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const namespace = checkNamespace(options.namespace ?? 'tongban');
  const logger = options.logger ?? createLogger({ level: 'error', write: () => undefined });
  const scheme = storeUrlScheme(url);
  const backend = { namespace, logger };
  switch (scheme) {
    case 'memory':
      return createMemoryStore();
    case 'sqlite':
      return createSqliteStore(url, backend);
    case 'redis':
    case 'rediss':
      return createRedisStore(url, { ...backend, cluster: false });
    case 'redis+cluster':
    case 'rediss+cluster':
      return createRedisStore(url, { ...backend, cluster: true });
    case 'postgres':
    case 'postgresql':
      return createPostgresStore(url, backend);
    default:
      throw new Error(`unknown store URL scheme "${scheme ?? ''}": use memory:, sqlite:, redis://, redis+cluster:// or postgres://`);
  }
}
