/**
 * PostgreSQL backend. Records live in keyv's table (`tongban_records`) through @keyv/postgres,
 * made to run on our own pool; claims and sets are tables of their own, each primitive one
 * statement. Expiry of claims and sets is judged by the database clock (`now()`), so nodes with
 * skewed clocks still agree on who holds a claim.
 */
import { randomUUID } from 'node:crypto';
import KeyvPostgres from '@keyv/postgres';
import pg, { type Pool } from 'pg';
import {
  type BackendOptions, checkRequiredTtl, checkTtl, errorMessage, startSweeper, wholeMs,
} from './common.ts';
import { createRecords, takenRecord } from './records.ts';
import type { Store } from './types.ts';

const connectTimeoutMs = 3_000;

// Serialises schema creation between processes starting at once (CREATE ... IF NOT EXISTS alone
// can still fail with a duplicate pg_type row when two sessions race).
const schemaLockId = 0x746f6e67; // 'tong'

const schema = [
  'CREATE TABLE IF NOT EXISTS tongban_records (key VARCHAR(512) PRIMARY KEY, value TEXT)',
  "CREATE INDEX IF NOT EXISTS tongban_records_expires ON tongban_records (((value::jsonb ->> 'expires')::bigint))",
  'CREATE TABLE IF NOT EXISTS tongban_claims (key TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)',
  'CREATE INDEX IF NOT EXISTS tongban_claims_expires ON tongban_claims (expires_at)',
  'CREATE TABLE IF NOT EXISTS tongban_sets (key TEXT PRIMARY KEY, generation TEXT NOT NULL, expires_at TIMESTAMPTZ)',
  'CREATE INDEX IF NOT EXISTS tongban_sets_expires ON tongban_sets (expires_at)',
  `CREATE TABLE IF NOT EXISTS tongban_set_members (
     set_key TEXT NOT NULL, generation TEXT NOT NULL, member TEXT NOT NULL,
     added_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (set_key, member))`,
  `CREATE TABLE IF NOT EXISTS tongban_counters (
     key TEXT NOT NULL, field TEXT NOT NULL, value BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (key, field))`,
  'CREATE INDEX IF NOT EXISTS tongban_counters_expires ON tongban_counters (expires_at)',
  // Append-only logs: the primary key lets exactly one writer take a position; never swept.
  'CREATE TABLE IF NOT EXISTS tongban_logs (log TEXT NOT NULL, position BIGINT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (log, position))',
];

const ms = (param: string) => `(${param}::float8 * interval '1 millisecond')`;

/*
 * A set row carries a generation: when an expired set is written to again it gets a new one, so the
 * members it had before expiring are invisible at once and the sweep removes them later.
 */
const addToSet = `
WITH s AS (
  INSERT INTO tongban_sets AS s (key, generation, expires_at)
  VALUES ($1, $3, CASE WHEN $4::float8 IS NULL THEN NULL ELSE now() + ${ms('$4')} END)
  ON CONFLICT (key) DO UPDATE SET
    generation = CASE WHEN s.expires_at <= now() THEN excluded.generation ELSE s.generation END,
    expires_at = CASE
      WHEN s.expires_at <= now() THEN excluded.expires_at
      WHEN s.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
      ELSE greatest(s.expires_at, excluded.expires_at)
    END
  RETURNING generation
)
INSERT INTO tongban_set_members (set_key, generation, member)
SELECT $1, generation, $2 FROM s
ON CONFLICT (set_key, member) DO UPDATE SET generation = excluded.generation, added_at = now()`;

/** @keyv/postgres keeps one module-wide pool that any instance's disconnect() ends; give it ours. */
function keyvOnPool(pool: Pool): KeyvPostgres {
  class KeyvPostgresOnPool extends KeyvPostgres {
    override async connect() {
      return async (sql: string, values?: unknown[]) => (await pool.query(sql, values)).rows;
    }

    override async disconnect() {}
  }
  return new KeyvPostgresOnPool({ table: 'tongban_records', keySize: 512 });
}

export async function createPostgresStore(url: string, options: BackendOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    max: 10,
  });
  // Idle connections that the server drops emit 'error' on the pool; unhandled, that ends the process.
  pool.on('error', (error) => {
    options.logger.warn('storage.unavailable', { backend: 'postgres', reason: errorMessage(error) });
  });

  try {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [schemaLockId]);
      for (const statement of schema) await client.query(statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  const prefix = `${options.namespace}:`;
  const records = createRecords(keyvOnPool(pool), prefix);
  const count = async (sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rowCount ?? 0;

  const sweep = async () => {
    let removed = await count("DELETE FROM tongban_records WHERE (value::jsonb ->> 'expires')::bigint < $1", [Date.now()]);
    removed += await count('DELETE FROM tongban_claims WHERE expires_at <= now()');
    removed += await count('DELETE FROM tongban_counters WHERE expires_at <= now()');
    // An expired set goes with exactly the members of its generation, in one statement.
    const expiredSets = await pool.query<{ removed: string }>(`
      WITH gone AS (DELETE FROM tongban_sets WHERE expires_at <= now() RETURNING key, generation),
      members AS (DELETE FROM tongban_set_members m USING gone
                  WHERE m.set_key = gone.key AND m.generation = gone.generation RETURNING 1)
      SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM members) AS removed`);
    removed += Number(expiredSets.rows[0]?.removed ?? 0);
    // Members left behind by a set that expired and was written to again. Only rows older than a
    // minute: one being moved to the new generation by an addToSet running now is not an orphan.
    removed += await count(`DELETE FROM tongban_set_members m
      WHERE m.added_at < now() - interval '1 minute'
        AND NOT EXISTS (SELECT 1 FROM tongban_sets s WHERE s.key = m.set_key AND s.generation = m.generation)`);
    return removed;
  };
  const stopSweeper = startSweeper(sweep, options.logger, 'postgres');

  return {
    kind: 'postgres',
    ...records,
    async consume<T>(key: string) {
      const { rows } = await pool.query<{ value: string }>('DELETE FROM tongban_records WHERE key = $1 RETURNING value', [prefix + key]);
      return takenRecord<T>(rows[0]?.value);
    },
    async claim(key, ttlMs) {
      checkRequiredTtl(ttlMs, 'claim');
      const won = await count(
        `INSERT INTO tongban_claims AS c (key, expires_at) VALUES ($1, now() + ${ms('$2')})
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE c.expires_at <= now()`,
        [prefix + key, wholeMs(ttlMs)],
      );
      return won === 1;
    },
    async addToSet(key, member, ttlMs) {
      checkTtl(ttlMs, 'addToSet');
      await pool.query(addToSet, [prefix + key, member, randomUUID(), ttlMs === undefined ? null : wholeMs(ttlMs)]);
    },
    async removeFromSet(key, member) {
      await pool.query('DELETE FROM tongban_set_members WHERE set_key = $1 AND member = $2', [prefix + key, member]);
    },
    async members(key) {
      const result = await pool.query<{ member: string }>(
        `SELECT m.member FROM tongban_set_members m
         JOIN tongban_sets s ON s.key = m.set_key AND s.generation = m.generation
         WHERE s.key = $1 AND (s.expires_at IS NULL OR s.expires_at > now())`,
        [prefix + key],
      );
      return result.rows.map((row) => row.member);
    },
    async deleteSet(key) {
      await pool.query(
        'WITH d AS (DELETE FROM tongban_sets WHERE key = $1) DELETE FROM tongban_set_members WHERE set_key = $1',
        [prefix + key],
      );
    },
    async appendToLog(log, position, entry) {
      // Only at the end: the position is free and (but for the first) follows a taken one.
      return (await count(
        `INSERT INTO tongban_logs (log, position, entry)
         SELECT $1, $2::bigint, $3
         WHERE NOT EXISTS (SELECT 1 FROM tongban_logs WHERE log = $1 AND position >= $2::bigint)
           AND ($2::bigint = 0 OR EXISTS (SELECT 1 FROM tongban_logs WHERE log = $1 AND position = $2::bigint - 1))
         ON CONFLICT (log, position) DO NOTHING`,
        [prefix + log, position, entry],
      )) === 1;
    },
    async readLog(log, from, count) {
      const result = await pool.query<{ entry: string }>(
        'SELECT entry FROM tongban_logs WHERE log = $1 AND position >= $2 ORDER BY position LIMIT $3',
        [prefix + log, from, count],
      );
      return result.rows.map((row) => row.entry);
    },
    async logLength(log) {
      const result = await pool.query<{ next: string }>(
        'SELECT coalesce(max(position) + 1, 0) AS next FROM tongban_logs WHERE log = $1',
        [prefix + log],
      );
      return Number(result.rows[0]?.next ?? 0);
    },
    async increment(key, field, by, ttlMs) {
      checkRequiredTtl(ttlMs, 'increment');
      // An expired counter starts again from this increment; a live one only ever lives longer.
      const result = await pool.query<{ value: string }>(
        `INSERT INTO tongban_counters AS c (key, field, value, expires_at) VALUES ($1, $2, $3, now() + ${ms('$4')})
         ON CONFLICT (key, field) DO UPDATE SET
           value = CASE WHEN c.expires_at <= now() THEN excluded.value ELSE c.value + excluded.value END,
           expires_at = greatest(c.expires_at, excluded.expires_at)
         RETURNING value`,
        [prefix + key, field, Math.trunc(by), wholeMs(ttlMs)],
      );
      return Number(result.rows[0]?.value ?? 0);
    },
    async counters(key) {
      const result = await pool.query<{ field: string; value: string }>(
        'SELECT field, value FROM tongban_counters WHERE key = $1 AND expires_at > now()',
        [prefix + key],
      );
      return Object.fromEntries(result.rows.map((row) => [row.field, Number(row.value)]));
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    sweep,
    async close() {
      stopSweeper();
      await pool.end();
    },
  };
}
