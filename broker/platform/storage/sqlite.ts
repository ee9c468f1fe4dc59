/**
 * SQLite backend: the embedded default for one machine. Several broker processes may open the same
 * file, so every primitive is one atomic statement or one `BEGIN IMMEDIATE` transaction (the write
 * lock is taken up front, so two processes never deadlock upgrading a read lock), and the file is
 * in WAL mode so readers never wait for the writer.
 *
 * Records live in keyv's table (`tongban_records`, through @keyv/sqlite's own connection); claims
 * and sets in tables of their own, used through a second connection to the same file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import sqlite3 from 'sqlite3';
import {
  type BackendOptions, checkRequiredTtl, checkTtl, createSerialQueue, startSweeper, wholeMs,
} from './common.ts';
import { createRecords, takenRecord } from './records.ts';
import type { Store } from './types.ts';

const busyTimeoutMs = 5_000;

interface Connection {
  run(sql: string, params?: unknown[]): Promise<number>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

function open(path: string): Promise<Connection> {
  return new Promise((resolveOpen, reject) => {
    const db = new sqlite3.Database(path, (error) => {
      if (error) {
        reject(error);
        return;
      }
      db.configure('busyTimeout', busyTimeoutMs);
      resolveOpen({
        run: (sql, params = []) => new Promise((done, fail) => {
          db.run(sql, params, function onRun(this: sqlite3.RunResult, runError: Error | null) {
            if (runError) fail(runError);
            else done(this.changes);
          });
        }),
        all: <T>(sql: string, params: unknown[] = []) => new Promise<T[]>((done, fail) => {
          db.all(sql, params, (allError: Error | null, rows: T[]) => {
            if (allError) fail(allError);
            else done(rows);
          });
        }),
        exec: (sql) => new Promise((done, fail) => {
          db.exec(sql, (execError) => {
            if (execError) fail(execError);
            else done();
          });
        }),
        close: () => new Promise((done, fail) => {
          db.close((closeError) => {
            if (closeError) fail(closeError);
            else done();
          });
        }),
      });
    });
  });
}

/** `sqlite:./data/x.sqlite`, `sqlite:/abs/x.sqlite`, `sqlite://./x.sqlite`, `sqlite:///abs/x.sqlite`. */
export function sqlitePath(url: string): string {
  let path = url.replace(/^sqlite:/, '');
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '' || path === ':memory:') {
    throw new Error('sqlite store needs a file path (sqlite:./data/tongban.sqlite); use memory: for an in-memory store');
  }
  return resolve(path);
}

const schema = `
CREATE TABLE IF NOT EXISTS tongban_records (key VARCHAR(512) PRIMARY KEY, value TEXT);
CREATE INDEX IF NOT EXISTS tongban_records_expires ON tongban_records (json_extract(value, '$.expires'));
CREATE TABLE IF NOT EXISTS tongban_claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tongban_claims_expires ON tongban_claims (expires_at);
CREATE TABLE IF NOT EXISTS tongban_sets (key TEXT PRIMARY KEY, generation TEXT NOT NULL, expires_at INTEGER);
CREATE INDEX IF NOT EXISTS tongban_sets_expires ON tongban_sets (expires_at);
CREATE TABLE IF NOT EXISTS tongban_set_members (
  set_key TEXT NOT NULL, generation TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (set_key, member)
);
CREATE TABLE IF NOT EXISTS tongban_counters (
  key TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (key, field)
);
CREATE INDEX IF NOT EXISTS tongban_counters_expires ON tongban_counters (expires_at);
CREATE TABLE IF NOT EXISTS tongban_logs (
  log TEXT NOT NULL, position INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (log, position)
);
`;

/*
 * A set row carries a generation: when an expired set is written to again it gets a new one, so the
 * members it had before expiring are invisible at once and the sweep removes them later.
 */
const upsertSet = `
INSERT INTO tongban_sets (key, generation, expires_at) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
  generation = CASE WHEN tongban_sets.expires_at <= ?4 THEN excluded.generation ELSE tongban_sets.generation END,
  expires_at = CASE
    WHEN tongban_sets.expires_at <= ?4 THEN excluded.expires_at
    WHEN tongban_sets.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
    ELSE max(tongban_sets.expires_at, excluded.expires_at)
  END
RETURNING generation`;

/** Runs `step` again while SQLite answers SQLITE_BUSY without waiting, for up to the busy timeout. */
async function whileBusy<T>(step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pause = 20; ; pause = Math.min(pause * 2, 500)) {
    try {
      return await step();
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

export async function createSqliteStore(url: string, options: BackendOptions): Promise<Store> {
  const path = sqlitePath(url);
  await mkdir(dirname(path), { recursive: true });
  const db = await open(path);
  const serial = createSerialQueue();

  const transaction = <T>(work: () => Promise<T>): Promise<T> => serial(async () => {
    await db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work();
      await db.exec('COMMIT');
      return result;
    } catch (error) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });

  let adapter: KeyvSqlite | undefined;
  try {
    // WAL is a property of the file: set once, every later connection (other processes too) uses it.
    // Setting it takes a lock SQLite does not wait for, so it is only set when not yet set, and both
    // steps are retried while another process (a running broker, a CLI) holds the file busy.
    await whileBusy(async () => {
      const [current] = await db.all<{ journal_mode: string }>('PRAGMA journal_mode');
      if (current?.journal_mode !== 'wal') await db.exec('PRAGMA journal_mode = WAL');
    });
    await whileBusy(() => transaction(() => db.exec(schema)));
    adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: 'tongban_records', keySize: 512, busyTimeout: busyTimeoutMs });
    // Its failures also reject the call that hit them; without a listener, emitting would throw.
    adapter.on('error', () => undefined);
    // node-sqlite3 runs a connection's statements concurrently, and overlapping statements share
    // one transaction: a read that turns into a write then fails with SQLITE_BUSY without waiting
    // whenever another connection wrote meanwhile. One statement at a time: each is its own
    // transaction, and a write takes the lock first (waiting up to busyTimeout).
    const keyvQuery = adapter.query;
    const keyvSerial = createSerialQueue();
    adapter.query = (sql, ...parameters) => keyvSerial(() => keyvQuery(sql, ...parameters));
    // Opens keyv's connection now, so a failure shows here rather than on the first request.
    await adapter.query('SELECT 1');
  } catch (error) {
    await adapter?.disconnect().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
  const keyvAdapter = adapter;

  const prefix = `${options.namespace}:`;
  const records = createRecords(keyvAdapter, prefix);

  const sweep = () => transaction(async () => {
    const now = Date.now();
    let removed = await db.run("DELETE FROM tongban_records WHERE json_extract(value, '$.expires') < ?", [now]);
    removed += await db.run('DELETE FROM tongban_claims WHERE expires_at <= ?', [now]);
    removed += await db.run('DELETE FROM tongban_sets WHERE expires_at <= ?', [now]);
    removed += await db.run('DELETE FROM tongban_counters WHERE expires_at <= ?', [now]);
    removed += await db.run(`DELETE FROM tongban_set_members WHERE NOT EXISTS (
      SELECT 1 FROM tongban_sets s WHERE s.key = tongban_set_members.set_key AND s.generation = tongban_set_members.generation)`);
    return removed;
  });
  const stopSweeper = startSweeper(sweep, options.logger, 'sqlite');

  return {
    kind: 'sqlite',
    ...records,
    async consume<T>(key: string) {
      const rows = await serial(() => db.all<{ value: string }>('DELETE FROM tongban_records WHERE key = ? RETURNING value', [prefix + key]));
      return takenRecord<T>(rows[0]?.value);
    },
    async claim(key, ttlMs) {
      checkRequiredTtl(ttlMs, 'claim');
      const now = Date.now();
      const rows = await serial(() => db.all(
        `INSERT INTO tongban_claims (key, expires_at) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE tongban_claims.expires_at <= ?3
         RETURNING key`,
        [prefix + key, now + wholeMs(ttlMs), now],
      ));
      return rows.length === 1;
    },
    async addToSet(key, member, ttlMs) {
      checkTtl(ttlMs, 'addToSet');
      await transaction(async () => {
        const now = Date.now();
        const expiresAt = ttlMs === undefined ? null : now + wholeMs(ttlMs);
        const rows = await db.all<{ generation: string }>(upsertSet, [prefix + key, randomUUID(), expiresAt, now]);
        const generation = rows[0]?.generation;
        if (generation === undefined) throw new Error('sqlite addToSet: set row not written');
        await db.run(
          `INSERT INTO tongban_set_members (set_key, generation, member) VALUES (?, ?, ?)
           ON CONFLICT (set_key, member) DO UPDATE SET generation = excluded.generation`,
          [prefix + key, generation, member],
        );
      });
    },
    async removeFromSet(key, member) {
      await serial(() => db.run('DELETE FROM tongban_set_members WHERE set_key = ? AND member = ?', [prefix + key, member]));
    },
    async members(key) {
      const rows = await serial(() => db.all<{ member: string }>(
        `SELECT m.member FROM tongban_set_members m
         JOIN tongban_sets s ON s.key = m.set_key AND s.generation = m.generation
         WHERE s.key = ? AND (s.expires_at IS NULL OR s.expires_at > ?)`,
        [prefix + key, Date.now()],
      ));
      return rows.map((row) => row.member);
    },
    async deleteSet(key) {
      await transaction(async () => {
        await db.run('DELETE FROM tongban_sets WHERE key = ?', [prefix + key]);
        await db.run('DELETE FROM tongban_set_members WHERE set_key = ?', [prefix + key]);
      });
    },
    async appendToLog(log, position, entry) {
      // One statement: the primary key lets exactly one writer (of any process) take a position.
      const rows = await serial(() => db.all(
        `INSERT INTO tongban_logs (log, position, entry)
         SELECT ?1, ?2, ?3
         WHERE NOT EXISTS (SELECT 1 FROM tongban_logs WHERE log = ?1 AND position >= ?2)
           AND (?2 = 0 OR EXISTS (SELECT 1 FROM tongban_logs WHERE log = ?1 AND position = ?2 - 1))
         ON CONFLICT (log, position) DO NOTHING
         RETURNING position`,
        [prefix + log, position, entry],
      ));
      return rows.length === 1;
    },
    async readLog(log, from, count) {
      const rows = await serial(() => db.all<{ entry: string }>(
        'SELECT entry FROM tongban_logs WHERE log = ? AND position >= ? ORDER BY position LIMIT ?',
        [prefix + log, from, count],
      ));
      return rows.map((row) => row.entry);
    },
    async logLength(log) {
      const rows = await serial(() => db.all<{ next: number }>(
        'SELECT coalesce(max(position) + 1, 0) AS next FROM tongban_logs WHERE log = ?',
        [prefix + log],
      ));
      return Number(rows[0]?.next ?? 0);
    },
    async increment(key, field, by, ttlMs) {
      checkRequiredTtl(ttlMs, 'increment');
      const now = Date.now();
      // An expired counter starts again from this increment; a live one only ever lives longer.
      const rows = await serial(() => db.all<{ value: number }>(
        `INSERT INTO tongban_counters (key, field, value, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key, field) DO UPDATE SET
           value = CASE WHEN tongban_counters.expires_at <= ?5 THEN excluded.value ELSE tongban_counters.value + excluded.value END,
           expires_at = max(tongban_counters.expires_at, excluded.expires_at)
         RETURNING value`,
        [prefix + key, field, Math.trunc(by), now + wholeMs(ttlMs), now],
      ));
      return Number(rows[0]?.value ?? 0);
    },
    async counters(key) {
      const rows = await serial(() => db.all<{ field: string; value: number }>(
        'SELECT field, value FROM tongban_counters WHERE key = ? AND expires_at > ?',
        [prefix + key, Date.now()],
      ));
      return Object.fromEntries(rows.map((row) => [row.field, Number(row.value)]));
    },
    async ping() {
      await serial(() => db.all('SELECT 1'));
      await keyvAdapter.query('SELECT 1');
    },
    sweep,
    async close() {
      stopSweeper();
      await serial(async () => undefined);
      await Promise.allSettled([keyvAdapter.disconnect(), db.close()]);
    },
  };
}
