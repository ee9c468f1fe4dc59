/**
 * The stored form of oidc-provider's records (broker/oidc/adapter-records.ts): small, and read back
 * exactly. What the adapter leaves out (`kind`, `jti`, the common values, the long field names, the
 * absolute times) must stay out, every payload must come back as saved, and records stored by the
 * earlier version (full-length hashed keys, `{ payload, expiresAt, jti }` values, model names in
 * grant sets and consumed markers, session pointers to hashed ids) must keep working.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import { decodeRecord, encodeRecord, type StoredRecord } from '../../broker/oidc/adapter-records.ts';
import { cryptoSuite } from '../../broker/platform/crypto/suite.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

const idKey = 'records test deployment secret';
const fullHash = (kind: string, value: string) => cryptoSuite('international').keyedHash(idKey, kind, value);
const storedHash = (kind: string, value: string) => fullHash(kind, value).slice(0, 22);
const value = () => randomBytes(32).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
/** What a payload is after a trip through the store's JSON. */
const asJson = <T>(payload: T): T => JSON.parse(JSON.stringify(payload)) as T;

type LoginModel = 'AuthorizationCode' | 'AccessToken' | 'RefreshToken' | 'Session' | 'Grant';
interface Saved {
  readonly id: string;
  readonly payload: AdapterPayload;
  readonly expiresIn: number;
}

/** Payloads as the broker's oidc-provider saves them in one login. */
function loginPayloads(): Record<LoginModel, Saved> {
  const iat = now();
  const [accountId, grantId, sessionUid, nonce] = [value(), value(), value(), value()];
  const login = { accountId, acr: 'urn:tongban:loa:3', amr: ['pwd'], authTime: iat, grantId, nonce, scope: 'openid profile', sessionUid };
  const ids = { code: value(), access: value(), refresh: value(), session: value() };
  return {
    AuthorizationCode: { id: ids.code, expiresIn: 60, payload: { iat, exp: iat + 60, ...login, codeChallenge: value(), codeChallengeMethod: 'S256', redirectUri: 'https://portal.example.gov.cn/callback', kind: 'AuthorizationCode', jti: ids.code, clientId: 'portal-330100', expiresWithSession: true } },
    AccessToken: { id: ids.access, expiresIn: 600, payload: { iat, exp: iat + 600, accountId, expiresWithSession: true, grantId, gty: 'authorization_code', sessionUid, kind: 'AccessToken', jti: ids.access, clientId: 'portal-330100', scope: 'openid profile', extra: { acr: 'urn:tongban:loa:3', auth_time: iat } } },
    RefreshToken: { id: ids.refresh, expiresIn: 28_800, payload: { iat, exp: iat + 28_800, ...login, expiresWithSession: true, gty: 'authorization_code', rotations: 0, kind: 'RefreshToken', jti: ids.refresh, clientId: 'portal-330100', iiat: iat } },
    Session: { id: ids.session, expiresIn: 28_800, payload: { iat, exp: iat + 28_800, kind: 'Session', jti: ids.session, uid: sessionUid, accountId, loginTs: iat, amr: ['pwd'], acr: 'urn:tongban:loa:3', authorizations: { 'portal-330100': { sid: value(), grantId } } } },
    Grant: { id: grantId, expiresIn: 28_800, payload: { iat, exp: iat + 28_800, clientId: 'portal-330100', accountId, kind: 'Grant', jti: grantId, openid: { scope: 'openid profile' } } },
  };
}

/** A small deterministic generator, so a failing case can be replayed. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Grant', 'DeviceCode', 'Interaction', 'ClientCredentials', 'PushedAuthorizationRequest'];
/** Names a payload may hold: oidc-provider's, the stored ones, escapes and traps. */
const fieldNames = [
  'iat', 'exp', 'jti', 'kind', 'accountId', 'acr', 'amr', 'authTime', 'auth_time', 'consumed', 'iiat', 'loginTs', 'gty', 'rotations',
  'expiresWithSession', 'codeChallengeMethod', 'scope', 'extra', 'claims', 'uid', 'userCode', 'sid',
  'i', 'e', 'f', 'L', 'A', 'k', '~', '~i', '~~f', '', 'x', '__proto__', 'constructor', 'toString', 'Z', 'unknownField',
];
const samples = (iat: number): unknown[] => [
  iat, iat + 60, iat - 5, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, 1e300, 'authorization_code', 'S256', true, false, null,
  'urn:tongban:loa:3', 'urn:tongban:loa:03', 'urn:tongban:loa:9', 'urn:tongban:loa:', ['pwd'], ['pwd', 'otp'], [], 'pwd', '',
];

function randomValue(random: ReturnType<typeof generator>, iat: number, depth: number): unknown {
  const roll = random.next();
  if (depth < 3 && roll < 0.15) return Array.from({ length: Math.floor(random.next() * 3) }, () => randomValue(random, iat, depth + 1));
  if (depth < 3 && roll < 0.3) return randomObject(random, iat, depth + 1);
  return random.pick(samples(iat));
}

function randomObject(random: ReturnType<typeof generator>, iat: number, depth: number): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (let n = Math.floor(random.next() * 8); n > 0; n -= 1) {
    Object.defineProperty(target, random.pick(fieldNames), { value: randomValue(random, iat, depth), enumerable: true, writable: true, configurable: true });
  }
  return target;
}

describe('oidc-provider records: the stored form', () => {
  it('gives back every payload exactly as saved, whatever it holds', () => {
    const random = generator(20_261_206);
    for (let round = 0; round < 3000; round += 1) {
      const model = random.pick(models);
      const rawId = value();
      const iat = random.pick([now(), now() - 3600, undefined, 1.5, 'soon']);
      const payload = randomObject(random, typeof iat === 'number' ? iat : now(), 0) as AdapterPayload;
      if (iat !== undefined) payload.iat = iat as number;
      if (random.next() < 0.7) payload.exp = random.pick([now() + 600, now() + 28_800, 1.5]);
      if (random.next() < 0.7) payload.kind = random.pick([model, model, 'Other']);
      if (random.next() < 0.7) payload.jti = random.pick([rawId, rawId, 'another-id']);
      const expiresAt = random.pick([null, Date.now() + 600_000, Date.now() + 28_800_000]);
      const stored = asJson(encodeRecord(model, rawId, payload, expiresAt));
      const read = decodeRecord(model, rawId, stored, 5000);
      assert.deepStrictEqual(read.payload, asJson(payload), `round ${round}: ${JSON.stringify(payload)}`);
      const derived = expiresAt !== null && (stored as readonly unknown[]).length === 2;
      assert.equal(read.expiresAt, derived ? (payload.exp as number) * 1000 + 5000 : expiresAt, `round ${round}: expiry`);
    }
  });

  it('keeps the exact expiry of what oidc-provider consumes, and none for the others it can derive from `exp`', () => {
    const { AuthorizationCode: code, AccessToken: access } = loginPayloads();
    const expiresAt = Date.now() + 65_123;
    const storedCode = asJson(encodeRecord('AuthorizationCode', code.id, code.payload, expiresAt));
    assert.equal(decodeRecord('AuthorizationCode', code.id, storedCode, 0).expiresAt, expiresAt);
    assert.ok(Math.abs((storedCode as readonly number[])[2]!) < 100_000, 'kept as milliseconds after `exp`');
    const storedAccess = asJson(encodeRecord('AccessToken', access.id, access.payload, expiresAt));
    assert.equal((storedAccess as readonly unknown[]).length, 2);
    assert.equal(decodeRecord('AccessToken', access.id, storedAccess, 5000).expiresAt, access.payload.exp! * 1000 + 5000);
    assert.equal(decodeRecord('AccessToken', access.id, asJson(encodeRecord('AccessToken', access.id, access.payload, null)), 0).expiresAt, null);
  });

  it('leaves out the kind, the jti, the common values, the long names and the absolute times', () => {
    for (const [model, { id, payload }] of Object.entries(loginPayloads())) {
      const stored = JSON.stringify(encodeRecord(model, id, payload, Date.now() + 60_000));
      const kept = [
        '"kind"', model, '"jti"', id, '"accountId"', '"grantId"', '"sessionUid"', '"expiresWithSession"', '"scope"', '"clientId"',
        '"gty"', 'authorization_code', '"rotations"', '"iiat"', '"loginTs"', '"authTime"', '"codeChallengeMethod"', '"S256"',
        'urn:tongban:loa', '"pwd"', String(payload.exp), '"auth_time"',
      ].filter((text) => stored.includes(text));
      assert.deepEqual(kept, [], `${model} stored as ${stored}`);
      assert.deepStrictEqual(decodeRecord(model, id, asJson(encodeRecord(model, id, payload, null)), 0).payload, asJson(payload));
    }
  });

  it('still reads the form earlier versions stored', () => {
    const { AccessToken: access } = loginPayloads();
    const { jti: _jti, ...withoutJti } = access.payload;
    const expiresAt = Date.now() + 600_000;
    assert.deepStrictEqual(decodeRecord('AccessToken', access.id, { payload: withoutJti, expiresAt, jti: 'id' }, 0), { payload: { ...withoutJti, jti: access.id }, expiresAt });
    assert.deepStrictEqual(decodeRecord('Session', undefined, { payload: access.payload, expiresAt: null }, 0), { payload: access.payload, expiresAt: null });
  });
});

interface Backend {
  readonly name: string;
  url(): string;
  teardown?(): void;
}

function sqliteBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'sqlite',
    url() {
      dir ??= mkdtempSync(join(tmpdir(), 'tongban-oidc-records-'));
      return `sqlite:${join(dir, 'store.sqlite')}`;
    },
    teardown: () => dir && rmSync(dir, { recursive: true, force: true }),
  };
}

const backends: Backend[] = [
  { name: 'memory', url: () => 'memory:' },
  sqliteBackend(),
  { name: 'redis', url: () => 'redis://127.0.0.1:6379' },
  { name: 'postgres', url: () => 'postgres://postgres@127.0.0.1:5432/test' },
];

async function errorOf(promise: Promise<unknown>): Promise<{ error?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { error?: unknown };
  }
  assert.fail('expected a rejection');
}

for (const backend of backends) {
  describe(`oidc-provider records in the store: ${backend.name}`, function () {
    this.timeout(20_000);
    let store: Store;
    let adapter: AdapterFactory;

    before(async () => {
      store = await createStore(backend.url(), { namespace: `r${randomUUID().replaceAll('-', '').slice(0, 12)}` });
      adapter = createOidcAdapterFactory(store, { idKey, clockToleranceSeconds: 5 });
    });
    after(async () => {
      await store?.close();
      backend.teardown?.();
    });

    it('stores a login\'s records small, under 22-character keys, and finds them as saved', async () => {
      const records = loginPayloads();
      for (const [model, { id, payload, expiresIn }] of Object.entries(records)) await adapter(model).upsert(id, payload, expiresIn);
      for (const [model, { id, payload }] of Object.entries(records)) {
        const stored = await store.get<StoredRecord>(`oidc:${model}:${storedHash('id', id)}`);
        assert.ok(Array.isArray(stored), `${model} in the current form`);
        assert.ok(!JSON.stringify(stored).includes(model) && !JSON.stringify(stored).includes(id), `${model}: no kind, no id`);
        assert.equal(await store.get(`oidc:${model}:${fullHash('id', id)}`), undefined, 'nothing under the earlier key');
        assert.deepStrictEqual(await adapter(model).find(id), asJson(payload));
      }
      const session = records.Session;
      // The uid's pointer holds the session's id, and puts it back: the record keeps no jti.
      assert.equal(await store.get(`oidc:sessionUid:${storedHash('uid', session.payload.uid as string)}`), session.id);
      assert.deepStrictEqual(await adapter('Session').findByUid(session.payload.uid as string), asJson(session.payload));
      const members = await store.members(`oidc:grant:${records.Grant.id}`);
      const expected = { AC: records.AuthorizationCode, AT: records.AccessToken, RT: records.RefreshToken };
      assert.deepEqual(members.sort(), Object.entries(expected).map(([code, { id }]) => `${code}:${storedHash('id', id)}`).sort());
      await adapter('Session').destroy(session.id);
      assert.equal(await adapter('Session').findByUid(session.payload.uid as string), undefined);
      assert.equal(await store.get(`oidc:sessionUid:${storedHash('uid', session.payload.uid as string)}`), undefined, 'pointer removed');
    });

    it('finds, consumes, destroys and revokes records stored by the earlier version', async () => {
      const records = loginPayloads();
      const grantId = records.Grant.id;
      const earlier = (model: string, id: string) => `oidc:${model}:${fullHash('id', id)}`;
      // As the earlier version wrote them: full-length hashes, the jti left out of tokens, model names in the grant set.
      for (const [model, { id, payload, expiresIn }] of Object.entries(records)) {
        const { jti: _jti, ...withoutJti } = payload;
        const record = model === 'Session' ? { payload, expiresAt: Date.now() + expiresIn * 1000 } : { payload: withoutJti, expiresAt: Date.now() + expiresIn * 1000, jti: 'id' };
        await store.set(earlier(model, id), record, expiresIn * 1000);
        if (model !== 'Session' && model !== 'Grant') await store.addToSet(`oidc:grant:${grantId}`, `${model}:${fullHash('id', id)}`, expiresIn * 1000);
      }
      const session = records.Session;
      const uid = session.payload.uid as string;
      await store.set(`oidc:sessionUid:${fullHash('uid', uid)}`, fullHash('id', session.id), 60_000);

      for (const [model, { id, payload }] of Object.entries(records)) assert.deepStrictEqual(await adapter(model).find(id), asJson(payload), model);
      assert.deepStrictEqual(await adapter('Session').findByUid(uid), asJson(session.payload));

      // Consumed under the earlier marker name, so a node still on the earlier version agrees on the winner.
      const code = records.AuthorizationCode;
      await adapter('AuthorizationCode').consume(code.id);
      assert.equal(typeof (await adapter('AuthorizationCode').find(code.id))?.consumed, 'number');
      assert.equal(await store.claim(`oidc:consumed:AuthorizationCode:${fullHash('id', code.id)}`, 60_000), false, 'the earlier marker is taken');
      const other = value();
      await store.set(earlier('AuthorizationCode', other), { payload: { ...code.payload, jti: undefined }, expiresAt: Date.now() + 60_000, jti: 'id' }, 60_000);
      assert.equal(await store.claim(`oidc:consumed:AuthorizationCode:${fullHash('id', other)}`, 60_000), true, 'consumed by an earlier node');
      assert.equal((await errorOf(adapter('AuthorizationCode').consume(other))).error, 'invalid_grant');

      // The session saved again (same id) lives under the current key; destroying it removes both forms.
      await adapter('Session').upsert(session.id, session.payload, 600);
      assert.ok(await store.get(`oidc:Session:${storedHash('id', session.id)}`));
      await adapter('Session').destroy(session.id);
      assert.equal(await adapter('Session').find(session.id), undefined);
      assert.equal(await adapter('Session').findByUid(uid), undefined);
      assert.equal(await store.get(earlier('Session', session.id)), undefined);
      assert.equal(await store.get(`oidc:sessionUid:${fullHash('uid', uid)}`), undefined, 'the earlier pointer removed');

      // The replay above revoked the grant: earlier members were understood.
      for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode'] as const) {
        assert.equal(await adapter(model).find(records[model].id), undefined, `${model} revoked`);
      }
      assert.equal(await adapter('Grant').find(grantId), undefined, 'grant destroyed');
      assert.deepEqual(await store.members(`oidc:grant:${grantId}`), []);
    });
  });
}
