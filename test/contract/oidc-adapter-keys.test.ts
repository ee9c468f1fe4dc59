/**
 * A copy of the store holds no usable bearer credential: after oidc-provider's adapter has stored
 * tokens, codes, initial and registration access tokens (and consumed and revoked some), every key
 * and value of the namespace, read straight from SQLite, Redis and PostgreSQL, is searched for
 * the credentials' values. They are found through the adapter, and only there.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import type { AdapterPayload } from 'oidc-provider';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import { cryptoSuite } from '../../broker/platform/crypto/suite.ts';
import { createStore } from '../../broker/platform/storage/index.ts';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = 'redis://127.0.0.1:6379';
const tables = ['tongban_records', 'tongban_claims', 'tongban_sets', 'tongban_set_members'];
const keyColumn = (table: string) => (table === 'tongban_set_members' ? 'set_key' : 'key');

interface Backend {
  readonly name: string;
  url(): string;
  /** Every key and value of the namespace, as text. */
  dump(namespace: string): Promise<string>;
  teardown?(): void;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-oidc-keys-'));
  const path = join(dir, 'store.sqlite');
  return {
    name: 'sqlite',
    url: () => `sqlite:${path}`,
    dump: (namespace) => new Promise((resolve, reject) => {
      const db = new sqlite3.Database(path, (openError) => {
        if (openError) return reject(openError);
        const rows: unknown[] = [];
        let pending = tables.length;
        for (const table of tables) {
          db.all(`SELECT * FROM ${table} WHERE ${keyColumn(table)} LIKE ?`, [`${namespace}:%`], (error, found) => {
            if (error) return reject(error);
            rows.push(...found);
            pending -= 1;
            if (pending === 0) db.close(() => resolve(JSON.stringify(rows)));
          });
        }
      });
    }),
    teardown: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const backends: Backend[] = [
  sqliteBackend(),
  {
    name: 'redis',
    url: () => redisUrl,
    async dump(namespace) {
      const client = createClient({ url: redisUrl });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const parts: string[] = [];
        for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
          for (const key of keys) {
            parts.push(key);
            const type = await client.type(key);
            if (type === 'string') parts.push(String(await client.get(key)));
            else if (type === 'set') parts.push(...(await client.sMembers(key)));
            else if (type === 'list') parts.push(...(await client.lRange(key, 0, -1)));
            else parts.push(`unexpected ${type}`);
          }
        }
        return parts.join('\n');
      } finally {
        client.destroy();
      }
    },
  },
  {
    name: 'postgres',
    url: () => postgresUrl,
    async dump(namespace) {
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
      try {
        const rows: unknown[] = [];
        for (const table of tables) {
          rows.push(...(await pool.query(`SELECT * FROM ${table} WHERE ${keyColumn(table)} LIKE $1`, [`${namespace}:%`])).rows);
        }
        return JSON.stringify(rows);
      } finally {
        await pool.end();
      }
    },
  },
];

const value = () => randomBytes(32).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

for (const backend of backends) {
  describe(`oidc-provider adapter keys: ${backend.name}`, () => {
    const namespace = `k${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    after(() => backend.teardown?.());

    for (const suite of ['international', 'gm'] as const) {
      it(`stores no bearer credential anyone could use (${suite})`, async () => {
        const store = await createStore(backend.url(), { namespace: `${namespace}${suite}` });
        try {
          const adapter = createOidcAdapterFactory(store, { idKey: 'a deployment secret', suite: cryptoSuite(suite) });
          const grantId = value();
          const credentials: Array<[string, string, Partial<AdapterPayload>]> = [
            ['AccessToken', value(), { grantId }],
            ['AuthorizationCode', value(), { grantId }],
            ['RefreshToken', value(), { grantId }],
            ['ClientCredentials', value(), {}],
            ['InitialAccessToken', value(), { policies: ['member-city'] }],
            ['RegistrationAccessToken', value(), { clientId: 'portal-330100' }],
          ];
          for (const [model, id, extra] of credentials) {
            await adapter(model).upsert(id, { kind: model, jti: id, clientId: 'portal-330100', iat: now(), exp: now() + 60, ...extra }, 60);
          }
          const uid = value();
          await adapter('Session').upsert(value(), { kind: 'Session', jti: 'session-id', uid, accountId: 'acct-1' }, 60);
          await adapter('AuthorizationCode').consume(credentials[1]![1]);

          const dump = await backend.dump(`${namespace}${suite}`);
          assert.ok(dump.includes('portal-330100'), 'the dump reads the records');
          for (const [model, id] of credentials) {
            assert.ok(!dump.includes(id), `${model} value found in the store`);
            const found = await adapter(model).find(id);
            assert.equal(found?.jti, id, `${model} found again through the adapter, its jti put back`);
          }
          assert.equal((await adapter('Session').findByUid(uid))?.jti, 'session-id');
          assert.ok(typeof (await adapter('AuthorizationCode').find(credentials[1]![1]))?.consumed === 'number');

          // Another key (another deployment, or a guess) finds nothing.
          const stranger = createOidcAdapterFactory(store, { idKey: 'another secret', suite: cryptoSuite(suite) });
          assert.equal(await stranger('AccessToken').find(credentials[0]![1]), undefined);

          await adapter('AccessToken').revokeByGrantId(grantId);
          assert.equal(await adapter('AccessToken').find(credentials[0]![1]), undefined);
          assert.equal(await adapter('RefreshToken').find(credentials[2]![1]), undefined);
          await adapter('InitialAccessToken').destroy(credentials[4]![1]);
          assert.equal(await adapter('InitialAccessToken').find(credentials[4]![1]), undefined);
        } finally {
          await store.close();
        }
      });
    }
  });
}
