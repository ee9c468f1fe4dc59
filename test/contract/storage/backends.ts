/**
 * The storage backends under test: Redis and PostgreSQL are the real servers (127.0.0.1:6379,
 * 127.0.0.1:5432): when they are down these tests fail, they do not skip. The Redis Cluster is
 * started for the run from the `redis-server` binary. Each backend's own test file calls the
 * conformance suite (broker/platform/storage/conformance.ts) with one of these.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import type { ConformanceBackend as Backend, RowCounter } from '../../../broker/platform/storage/conformance.ts';
import { startRedisCluster, type RedisCluster } from '../../../scripts/dev/processes.ts';

export const redisUrl = 'redis://127.0.0.1:6379';
export const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
export type { RowCounter };

const countSql = {
  records: 'SELECT count(*) AS n FROM tongban_records WHERE key LIKE ?',
  claims: 'SELECT count(*) AS n FROM tongban_claims WHERE key LIKE ?',
  sets: 'SELECT count(*) AS n FROM tongban_sets WHERE key LIKE ?',
  members: 'SELECT count(*) AS n FROM tongban_set_members WHERE set_key LIKE ?',
};

/** The row counts of a namespace in every table, `one` running a count query of a SQL backend. */
const rowCounter = (one: (sql: string, namespace: string) => Promise<number>): RowCounter => async (namespace) => ({
  records: await one(countSql.records, namespace),
  claims: await one(countSql.claims, namespace),
  sets: await one(countSql.sets, namespace),
  members: await one(countSql.members, namespace),
});

/** One statement on the test database, over a connection of its own. */
export async function postgresQuery(sql: string, values: unknown[]): Promise<pg.QueryResult> {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
  try {
    return await pool.query(sql, values);
  } finally {
    await pool.end();
  }
}

export function sqliteBackend(): Backend {
  let dir: string | undefined;
  const path = () => {
    dir ??= mkdtempSync(join(tmpdir(), 'tongban-storage-'));
    return join(dir, 'nested', 'store.sqlite');
  };
  return {
    name: 'sqlite',
    shared: true,
    url: async () => `sqlite:${path()}`,
    async counter() {
      const db = await new Promise<sqlite3.Database>((resolve, reject) => {
        const opened = new sqlite3.Database(path(), (error) => (error ? reject(error) : resolve(opened)));
      });
      const one = (sql: string, namespace: string) => new Promise<number>((resolve, reject) => {
        db.get(sql, [`${namespace}:%`], (error: Error | null, row: { n: number }) => (error ? reject(error) : resolve(row.n)));
      });
      return {
        count: rowCounter(one),
        close: () => new Promise<void>((resolve) => db.close(() => resolve())),
      };
    },
    async teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  const query = postgresQuery;
  return {
    name: 'postgres',
    shared: true,
    url: async () => postgresUrl,
    async counter() {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
      const one = async (sql: string, namespace: string) =>
        Number((await pool.query<{ n: string }>(sql.replace('?', '$1'), [`${namespace}:%`])).rows[0]?.n);
      return {
        count: rowCounter(one),
        close: () => pool.end(),
      };
    },
    async cleanup(namespace) {
      for (const table of ['tongban_records', 'tongban_claims', 'tongban_sets']) {
        await query(`DELETE FROM ${table} WHERE key LIKE $1`, [`${namespace}:%`]);
      }
      await query('DELETE FROM tongban_set_members WHERE set_key LIKE $1', [`${namespace}:%`]);
      await query('DELETE FROM tongban_logs WHERE log LIKE $1', [`${namespace}:%`]);
    },
  };
}

export async function deleteRedisKeys(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

/** A throwaway three-master Redis Cluster on free ports (scripts/dev/processes.ts). */
export function redisClusterBackend(): Backend {
  let started: Promise<RedisCluster> | undefined;
  return {
    name: 'redis-cluster',
    shared: true,
    url: async () => (await (started ??= startRedisCluster())).url,
    async teardown() {
      await (await started?.catch(() => undefined))?.stop();
    },
  };
}

export const memoryBackend = (): Backend => ({ name: 'memory', shared: false, url: async () => 'memory:' });
export const redisBackend = (): Backend => ({ name: 'redis', shared: true, url: async () => redisUrl, cleanup: (namespace) => deleteRedisKeys(redisUrl, namespace) });
