/**
 * The oidc-provider adapter over every backend. Two adapter factories over two separate stores
 * stand for two broker nodes (on memory, both use the one store).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import { createStore } from '../../broker/platform/storage/index.ts';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

/** The deployment secret's store-id key, as the broker derives it (here: one fixed test secret). */
const testIdKey = 'test deployment secret';

interface Backend {
  readonly name: string;
  readonly shared: boolean;
  url(): string;
  teardown?(): void;
}

function sqliteBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'sqlite',
    shared: true,
    url() {
      dir ??= mkdtempSync(join(tmpdir(), 'tongban-oidc-adapter-'));
      return `sqlite:${join(dir, 'store.sqlite')}`;
    },
    teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const backends: Backend[] = [
  { name: 'memory', shared: false, url: () => 'memory:' },
  sqliteBackend(),
  { name: 'redis', shared: true, url: () => 'redis://127.0.0.1:6379' },
  { name: 'postgres', shared: true, url: () => 'postgres://postgres@127.0.0.1:5432/test' },
];

const id = () => randomUUID().replaceAll('-', '');
const now = () => Math.floor(Date.now() / 1000);

function token(kind: string, grantId: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return { kind, jti: id(), grantId, clientId: 'portal-330100', accountId: 'acct-1', iat: now(), exp: now() + 60, ...extra };
}

async function errorOf(promise: Promise<unknown>): Promise<{ error?: unknown; status?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { error?: unknown; status?: unknown };
  }
  assert.fail('expected a rejection');
}

function adapterContract(backend: Backend): void {
  describe(`oidc-provider adapter: ${backend.name}`, function adapterSuite() {
    this.timeout(20_000);
    const namespace = `t${id().slice(0, 12)}`;
    let storeA: Store;
    let storeB: Store;
    let nodeA: AdapterFactory;
    let nodeB: AdapterFactory;

    before(async () => {
      storeA = await createStore(backend.url(), { namespace });
      storeB = backend.shared ? await createStore(backend.url(), { namespace }) : storeA;
      nodeA = createOidcAdapterFactory(storeA, { idKey: testIdKey });
      nodeB = createOidcAdapterFactory(storeB, { idKey: testIdKey });
    });

    after(async () => {
      await storeA?.close();
      if (storeB !== storeA) await storeB?.close();
      backend.teardown?.();
    });

    it('upserts and finds, one record per model and id, and overwrites', async () => {
      const grantId = id();
      const accessToken = token('AccessToken', grantId, { scope: 'openid profile', extra: { 省: '浙江' } });
      await nodeA('AccessToken').upsert(accessToken.jti!, accessToken, 60);
      assert.deepEqual(await nodeB('AccessToken').find(accessToken.jti!), accessToken);
      assert.equal(await nodeB('RefreshToken').find(accessToken.jti!), undefined);
      assert.equal(await nodeB('AccessToken').find(id()), undefined);

      const updated = { ...accessToken, scope: 'openid' };
      await nodeB('AccessToken').upsert(accessToken.jti!, updated, 60);
      assert.deepEqual(await nodeA('AccessToken').find(accessToken.jti!), updated);
    });

    it('honours expiresIn as seconds, and no expiresIn as no expiry', async () => {
      const short = token('AuthorizationCode', id());
      const lasting = token('Grant', id());
      await Promise.all([
        nodeA('AuthorizationCode').upsert(short.jti!, short, 0.4),
        nodeA('Grant').upsert(lasting.jti!, lasting),
      ]);
      await sleep(150);
      assert.ok(await nodeB('AuthorizationCode').find(short.jti!), 'still there after 150 ms of a 0.4 s lifetime');
      await sleep(400);
      assert.equal(await nodeB('AuthorizationCode').find(short.jti!), undefined, 'gone after 0.55 s');
      assert.ok(await nodeB('Grant').find(lasting.jti!));
      await nodeA('Grant').destroy(lasting.jti!);
    });

    it('adds the clock tolerance to every lifetime', async () => {
      const tolerant = createOidcAdapterFactory(storeA, { idKey: testIdKey, clockToleranceSeconds: 1 });
      const code = token('AuthorizationCode', id());
      await tolerant('AuthorizationCode').upsert(code.jti!, code, 0.1);
      await sleep(300);
      assert.ok(await nodeB('AuthorizationCode').find(code.jti!), 'kept for expiresIn + tolerance');
      await nodeA('AuthorizationCode').destroy(code.jti!);
    });

    it('finds a session by uid, also after its id rotates; destroy removes it', async () => {
      const uid = id();
      const first = { kind: 'Session', jti: id(), uid, accountId: 'acct-1', exp: now() + 600 } as AdapterPayload;
      await nodeA('Session').upsert(first.jti!, first, 600);
      assert.deepEqual(await nodeB('Session').findByUid(uid), first);
      assert.equal(await nodeB('Session').findByUid(id()), undefined);

      // oidc-provider saves the session under a new id, then destroys the old one.
      const rotated = { ...first, jti: id() };
      await nodeB('Session').upsert(rotated.jti!, rotated, 600);
      await nodeA('Session').destroy(first.jti!);
      assert.equal(await nodeA('Session').find(first.jti!), undefined);
      assert.deepEqual(await nodeA('Session').findByUid(uid), rotated);

      await nodeB('Session').destroy(rotated.jti!);
      assert.equal(await nodeA('Session').find(rotated.jti!), undefined);
      assert.equal(await nodeA('Session').findByUid(uid), undefined);
    });

    it('finds a device code by user code; destroy removes it', async () => {
      const userCode = `WDJB-${id().slice(0, 4).toUpperCase()}`;
      const deviceCode = token('DeviceCode', id(), { userCode });
      await nodeA('DeviceCode').upsert(deviceCode.jti!, deviceCode, 600);
      assert.deepEqual(await nodeB('DeviceCode').findByUserCode(userCode), deviceCode);
      assert.equal(await nodeB('DeviceCode').findByUserCode('NONE-0000'), undefined);
      await nodeB('DeviceCode').destroy(deviceCode.jti!);
      assert.equal(await nodeA('DeviceCode').find(deviceCode.jti!), undefined);
      assert.equal(await nodeA('DeviceCode').findByUserCode(userCode), undefined);
    });

    it('destroys one record and leaves the rest of its grant', async () => {
      const grantId = id();
      const kept = token('AccessToken', grantId);
      const destroyed = token('AccessToken', grantId);
      await Promise.all([
        nodeA('AccessToken').upsert(kept.jti!, kept, 60),
        nodeA('AccessToken').upsert(destroyed.jti!, destroyed, 60),
      ]);
      await nodeB('AccessToken').destroy(destroyed.jti!);
      await nodeB('AccessToken').destroy(id());
      assert.equal(await nodeA('AccessToken').find(destroyed.jti!), undefined);
      assert.deepEqual(await nodeA('AccessToken').find(kept.jti!), kept);
    });

    it('revokes every token of a grant, of every model, and nothing else', async () => {
      const grantId = id();
      const otherGrantId = id();
      const userCode = `RVKE-${id().slice(0, 4).toUpperCase()}`;
      const members = [
        token('AccessToken', grantId),
        token('AccessToken', grantId),
        token('RefreshToken', grantId),
        token('AuthorizationCode', grantId),
        token('DeviceCode', grantId, { userCode }),
        token('BackchannelAuthenticationRequest', grantId),
      ];
      const bystanders = [token('AccessToken', otherGrantId), token('RefreshToken', otherGrantId)];
      const session = { kind: 'Session', jti: id(), uid: id(), accountId: 'acct-1' } as AdapterPayload;
      const grant = { kind: 'Grant', jti: grantId, accountId: 'acct-1', clientId: 'portal-330100' } as AdapterPayload;
      await Promise.all([
        ...[...members, ...bystanders].map((payload) => nodeA(payload.kind!).upsert(payload.jti!, payload, 60)),
        nodeA('Session').upsert(session.jti!, session, 60),
        nodeA('Grant').upsert(grantId, grant, 60),
      ]);

      await nodeB('RefreshToken').revokeByGrantId(grantId);

      for (const payload of members) {
        assert.equal(await nodeA(payload.kind!).find(payload.jti!), undefined, `${payload.kind} revoked`);
      }
      assert.equal(await nodeA('DeviceCode').findByUserCode(userCode), undefined);
      for (const payload of bystanders) {
        assert.deepEqual(await nodeA(payload.kind!).find(payload.jti!), payload, `${payload.kind} of another grant kept`);
      }
      assert.deepEqual(await nodeA('Session').find(session.jti!), session);
      // The Grant record itself is oidc-provider's to destroy (Grant.adapter.destroy) on revocation.
      assert.deepEqual(await nodeA('Grant').find(grantId), grant);

      // A token issued under the grant afterwards is revocable again.
      const late = token('AccessToken', grantId);
      await nodeA('AccessToken').upsert(late.jti!, late, 60);
      await nodeB('AccessToken').revokeByGrantId(grantId);
      assert.equal(await nodeA('AccessToken').find(late.jti!), undefined);
      await nodeA('AccessToken').revokeByGrantId(id());
    });

    it('with a fixed grant-token lifetime: revokes tokens within it and longer-lived ones listed apart, and destroy unlists both', async () => {
      // Grant sets then live 60 s after their latest token; a 600 s token goes to the second set.
      const fixedA = createOidcAdapterFactory(storeA, { idKey: testIdKey, grantTokenLifetimeSeconds: 60 });
      const fixedB = createOidcAdapterFactory(storeB, { idKey: testIdKey, grantTokenLifetimeSeconds: 60 });
      const grantId = id();
      const code = token('AuthorizationCode', grantId);
      const access = token('AccessToken', grantId);
      const longLived = token('AccessToken', grantId, { exp: now() + 600 });
      const refresh = token('RefreshToken', grantId);
      await Promise.all([
        fixedA('AuthorizationCode').upsert(code.jti!, code, 30),
        fixedA('AccessToken').upsert(access.jti!, access, 60),
        fixedB('AccessToken').upsert(longLived.jti!, longLived, 600),
        fixedB('RefreshToken').upsert(refresh.jti!, refresh, 60),
      ]);
      const listed = [...await storeA.members(`oidc:grant:${grantId}`), ...await storeA.members(`oidc:grant:${grantId}:long`)];
      assert.equal(listed.length, 4, 'every token listed once');
      assert.equal((await storeA.members(`oidc:grant:${grantId}:long`)).length, 1, 'the longer-lived token apart');
      // destroy unlists from whichever set holds the token.
      await fixedB('AccessToken').destroy(longLived.jti!);
      assert.deepEqual(await storeA.members(`oidc:grant:${grantId}:long`), []);
      const again = token('AccessToken', grantId, { exp: now() + 600 });
      await fixedA('AccessToken').upsert(again.jti!, again, 600);
      await fixedB('RefreshToken').revokeByGrantId(grantId);
      for (const [model, payload] of [['AuthorizationCode', code], ['AccessToken', access], ['AccessToken', again], ['RefreshToken', refresh]] as const) {
        assert.equal(await fixedA(model).find(payload.jti!), undefined, `${model} revoked`);
      }
    });

    it('consumes once: marks consumed, keeps the lifetime; a replay from another node is invalid_grant and revokes the grant', async () => {
      const grantId = id();
      const code = token('AuthorizationCode', grantId);
      const sibling = token('AccessToken', grantId);
      const grant = { kind: 'Grant', jti: grantId, accountId: 'acct-1', clientId: 'portal-330100' } as AdapterPayload;
      await Promise.all([
        nodeA('AuthorizationCode').upsert(code.jti!, code, 0.8),
        nodeA('AccessToken').upsert(sibling.jti!, sibling, 60),
        nodeA('Grant').upsert(grantId, grant, 60),
      ]);

      const before = now();
      await nodeA('AuthorizationCode').consume(code.jti!);
      const consumed = await nodeB('AuthorizationCode').find(code.jti!);
      assert.ok(consumed, 'consumed record still found');
      assert.equal(typeof consumed.consumed, 'number');
      assert.ok(consumed.consumed >= before && consumed.consumed <= now(), 'consumed is epoch seconds');
      assert.deepEqual({ ...consumed, consumed: undefined }, { ...code, consumed: undefined });

      const replay = await errorOf(nodeB('AuthorizationCode').consume(code.jti!));
      assert.equal(replay.error, 'invalid_grant');
      assert.equal(replay.status, 400);
      assert.equal(await nodeA('AccessToken').find(sibling.jti!), undefined, 'tokens of the grant revoked');
      assert.equal(await nodeA('Grant').find(grantId), undefined, 'grant destroyed');

      const second = token('AuthorizationCode', id());
      await nodeA('AuthorizationCode').upsert(second.jti!, second, 0.5);
      await nodeA('AuthorizationCode').consume(second.jti!);
      await sleep(700);
      assert.equal(await nodeB('AuthorizationCode').find(second.jti!), undefined, 'consumed record still expires');
    });

    it('lets exactly one of two nodes consume the same code, round after round', async () => {
      for (let round = 0; round < 15; round += 1) {
        const code = token(round % 2 === 0 ? 'AuthorizationCode' : 'RefreshToken', id());
        await nodeA(code.kind!).upsert(code.jti!, code, 60);
        const results = await Promise.allSettled([nodeA(code.kind!).consume(code.jti!), nodeB(code.kind!).consume(code.jti!)]);
        const fulfilled = results.filter((result) => result.status === 'fulfilled');
        const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
        assert.equal(fulfilled.length, 1, `round ${round}: ${fulfilled.length} consumers won`);
        assert.equal((rejected[0]?.reason as { error?: string } | undefined)?.error, 'invalid_grant');
      }
    });

    it('answers a reused request_uri with invalid_request_uri and an unknown code with invalid_grant', async () => {
      const par = { kind: 'PushedAuthorizationRequest', jti: id(), request: 'eyJ...', clientId: 'portal-330100' } as AdapterPayload;
      await nodeA('PushedAuthorizationRequest').upsert(par.jti!, par, 60);
      await nodeA('PushedAuthorizationRequest').consume(par.jti!);
      assert.equal((await errorOf(nodeB('PushedAuthorizationRequest').consume(par.jti!))).error, 'invalid_request_uri');
      assert.equal((await errorOf(nodeB('AuthorizationCode').consume(id()))).error, 'invalid_grant');
    });
  });
}

for (const backend of backends) adapterContract(backend);
