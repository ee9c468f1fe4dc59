/**
 * Acceptance of issue 13, item 1: after a natural person and a company agent have signed in (ID
 * number, phone and legal_person consented) and an app has registered itself with an initial
 * access token, a copy of the store holds no name, ID number, phone, credit code or usable token,
 * nor anything of the electronic licences the person's app fetched (issue 16: relayed, never kept).
 * Searched raw: the SQLite file's bytes (the same store code `npm start` writes into data/), every
 * key of the namespace in Redis (SCAN, then DUMP and the value), and every tongban_* row in
 * PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import pg from 'pg';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { cliActor } from '../../broker/members/index.ts';
import { demoAccounts, demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';

const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = 'redis://127.0.0.1:6379';

const portal: ConfiguredClient = {
  client_id: 'dump-hangzhou-portal',
  client_secret: 'dump-hangzhou-portal-secret',
  client_name: '杭州办事大厅',
  city: '330100',
  redirect_uris: ['http://127.0.0.1:9/dump/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile phone id_number legal_person offline_access licence:id_card licence:household_register',
  first_party: true,
  purposes: { id_number: '核验办事人身份', phone: '办理进度通知', legal_person: '以企业名义办事' },
};

interface Backend {
  readonly name: string;
  readonly url: string;
  /** Everything the backend holds for the namespace, as raw bytes. */
  dump(namespace: string): Promise<Buffer>;
  teardown?(): void;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-dump-'));
  const path = join(dir, 'store.sqlite');
  return {
    name: 'sqlite',
    url: `sqlite:${path}`,
    // The file itself, with its write-ahead log: what a copy of data/ would hold.
    dump: async () => Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p))),
    teardown: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const redisBackend: Backend = {
  name: 'redis',
  url: redisUrl,
  async dump(namespace) {
    const client = createClient({ url: redisUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const parts: Buffer[] = [];
      const text = (value: unknown) => parts.push(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        for (const key of keys) {
          text(key);
          const type = await client.type(key);
          if (type === 'string') text(await client.get(key));
          else if (type === 'hash') text(await client.hGetAll(key));
          else if (type === 'set') text(await client.sMembers(key));
          else if (type === 'list') text(await client.lRange(key, 0, -1));
          else if (type === 'zset') text(await client.zRange(key, 0, -1));
          else text(`unexpected ${type}`);
          const dumped = await client.withTypeMapping({ [36]: Buffer } as never).dump(key);
          if (dumped) parts.push(Buffer.from(dumped as unknown as Buffer));
        }
      }
      return Buffer.concat(parts);
    } finally {
      client.destroy();
    }
  },
};

const postgresBackend: Backend = {
  name: 'postgres',
  url: postgresUrl,
  async dump(namespace) {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 1 });
    try {
      const tables = (await pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'tongban\\_%'")).rows.map((r) => r.table_name);
      assert.ok(tables.includes('tongban_records') && tables.includes('tongban_logs'), `tables: ${tables.join(', ')}`);
      const rows: string[] = [];
      for (const table of tables) {
        const found = await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t WHERE t::text LIKE $1`, [`%${namespace}:%`]);
        rows.push(...found.rows.map((r) => r.row));
      }
      return Buffer.from(rows.join('\n'));
    } finally {
      await pool.end();
    }
  },
};

/** A value as it may appear in bytes: UTF-8, and JSON-escaped (`\u5f20`). */
function forms(value: string): Buffer[] {
  const escaped = [...value].map((c) => (c.charCodeAt(0) > 0x7f ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
  return [...new Set([value, escaped])].map((v) => Buffer.from(v));
}

/** Follows an authorization request to the app, signing in, choosing the company and consenting as the pages ask. */
async function signIn(browser: Browser, rp: RelyingParty, username: string, scope: string, creditCode?: string) {
  const attempt = await authorizationRequest(rp, { scope });
  const stopAt = stopAtRedirectUri(rp);
  let page: Page = await browser.follow(attempt.url, { stopAt });
  for (let step = 0; step < 6 && !page.location?.startsWith(rp.redirectUri); step += 1) {
    assert.equal(page.status, 200, `${page.url}: ${page.body.slice(0, 300)}`);
    if (/name="password"/.test(page.body)) page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
    else if (/name="credit_code"/.test(page.body)) page = await browser.submitForm(page.body, page.url, { credit_code: creditCode! }, { stopAt });
    // The consent page: every sensitive item is ticked as shown.
    else page = await browser.submitForm(page.body, page.url, {}, { stopAt });
  }
  assert.ok(page.location?.startsWith(rp.redirectUri), `reached the app: ${page.status} ${page.url}`);
  const callback = new URL(page.location!);
  const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
  });
  const claims = await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
  return { code: callback.searchParams.get('code')!, tokens, claims };
}

for (const backend of [sqliteBackend(), redisBackend, postgresBackend]) {
  describe(`a copy of the store holds no personal data or usable token: ${backend.name}`, function () {
    this.timeout(60_000);
    const namespace = `d${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    let federation: Federation;
    let rp: RelyingParty;

    before(async () => {
      federation = await startFederation({ clients: [portal], store: backend.url, overrides: { storeNamespace: namespace } });
      rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    });
    after(async () => {
      await federation?.stop();
      backend.teardown?.();
    });

    it('after a person and a company agent sign in and an app registers itself, nothing readable is left', async () => {
      const person = await signIn(new Browser(), rp, 'zhangsan', 'openid profile phone id_number offline_access licence:id_card licence:household_register');
      assert.ok(person.claims.idnum && person.claims.phone_number && person.claims.name, 'the person\'s items were released');
      // Electronic licences are relayed, never kept (issue 16, docs/licences.md).
      const relayed = await fetch(new URL('/licences', federation.issuer), { headers: { authorization: `Bearer ${person.tokens.access_token}` } });
      assert.equal(relayed.status, 200, await relayed.clone().text());
      const licences = ((await relayed.json()) as { licences: Array<{ type: string; document: string }> }).licences;
      assert.equal(licences.length, 2);
      const agent = await signIn(new Browser(), rp, 'lisi', 'openid profile phone id_number legal_person offline_access', demoCompanies.jiaxing.creditCode);
      assert.ok(JSON.stringify(agent.claims).includes(demoCompanies.jiaxing.creditCode), 'the company was released');
      assert.ok(person.tokens.refresh_token && agent.tokens.refresh_token);

      const initial = (await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330100', ttl_seconds: 600 })).initial_access_token;
      const registration = await fetch(`${federation.issuer}/reg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${initial}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: '自注册应用', redirect_uris: ['https://self.example.gov.cn/cb'], city: '330100' }),
      });
      assert.equal(registration.status, 201, await registration.clone().text());
      const registered = await registration.json() as { client_secret: string; registration_access_token: string };

      // Let write-behind settle (SQLite's WAL is read as it stands).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const dump = await backend.dump(namespace);
      assert.ok(dump.length > 1000, 'the dump holds the store');
      assert.ok(dump.includes(Buffer.from('tb1.international.')), 'sealed records are there');
      // A positive control: what is not personal data is found, so the search does look.
      assert.ok(dump.includes(Buffer.from(portal.client_id)) && dump.includes(Buffer.from('自注册应用')), 'the search finds what is there in clear');

      const lisi = demoAccounts.find((a) => a.username === 'lisi')!;
      const zhangsan = demoAccounts.find((a) => a.username === 'zhangsan')!;
      const personal: Record<string, string> = {
        'name (张三)': zhangsan.name, 'name (李四)': lisi.name,
        'ID number (张三)': zhangsan.certNo, 'ID number (李四)': lisi.certNo,
        'phone (张三)': zhangsan.phone!.replace('+86', ''), 'phone (李四)': lisi.phone!.replace('+86', ''),
        'credit code (chosen)': demoCompanies.jiaxing.creditCode, 'credit code (offered)': demoCompanies.suzhou.creditCode,
        'company name': demoCompanies.jiaxing.name,
        ...Object.fromEntries(licences.flatMap(({ type, document }) => {
          const [, payload, signature] = document.split('.');
          return [[`licence payload (${type})`, payload!], [`licence signature (${type})`, signature!], [`licence number (${type})`, String(decodeJwt(document).number)]];
        })),
      };
      const credentials: Record<string, string> = {
        'access token (person)': person.tokens.access_token, 'refresh token (person)': person.tokens.refresh_token!,
        'authorization code (person)': person.code,
        'access token (agent)': agent.tokens.access_token, 'refresh token (agent)': agent.tokens.refresh_token!,
        'authorization code (agent)': agent.code,
        'initial access token': initial, 'registration access token': registered.registration_access_token,
        'client secret': registered.client_secret,
      };
      const found = Object.entries({ ...personal, ...credentials })
        .filter(([, value]) => forms(value).some((form) => dump.includes(form)))
        .map(([what]) => what);
      assert.deepEqual(found, [], `found in the ${backend.name} store: ${found.join(', ')}`);
    });
  });
}
