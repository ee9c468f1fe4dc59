/**
 * The member-city registry below the HTTP layer: the app rules, hashed secrets, seeding, and its
 * behaviour with several nodes on one real Redis — concurrent changes never lost, every change seen
 * by every node within the refresh interval.
 */
import assert from 'node:assert/strict';
import { seedCities } from '../../config/cities.ts';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { checkAppInput, clientMetadataOfApp, cliActor, createMemberRegistry, RegistryError, type AppInput, type MemberRegistry } from '../../broker/members/index.ts';
import { createSecretVerifier, generateSecret, hashSecret } from '../../broker/platform/crypto/client-secrets.ts';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

/** The deployment secret's store-id key, as the broker derives it (here: one fixed test secret). */
const testIdKey = 'test deployment secret';

const actor = cliActor();
const app = (overrides: Partial<Record<keyof AppInput, unknown>> = {}): AppInput => ({
  city: '330100', name: '杭州办事', redirect_uris: ['https://banshi.hangzhou.example.cn/cb'], ...overrides,
});
const problemsOf = (input: AppInput, mode: 'development' | 'production' = 'production') =>
  checkAppInput(input, { mode }).problems.map((p) => `${p.field}:${p.code}`);

describe('member-city registry', function () {
  this.timeout(20_000);

  describe('app rules', () => {
    it('accepts a well-formed app and normalises it', () => {
      const { value, problems } = checkAppInput(app({ grant_types: ['refresh_token'], scope: 'openid profile openid' }), { mode: 'production' });
      assert.deepEqual(problems, []);
      assert.deepEqual(value!.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(value!.scope, 'openid profile');
      assert.equal(value!.token_endpoint_auth_method, 'client_secret_basic');
      assert.equal(value!.first_party, false);
    });

    it('redirect URIs: exact https URLs, loopback http only in development', () => {
      assert.deepEqual(problemsOf(app({ redirect_uris: ['http://127.0.0.1:8080/cb'] }), 'development'), []);
      assert.deepEqual(problemsOf(app({ redirect_uris: ['http://localhost/cb'] }), 'development'), []);
      assert.deepEqual(problemsOf(app({ redirect_uris: ['http://127.0.0.1:8080/cb'] })), ['redirect_uris:invalid_redirect_uri']);
      for (const bad of ['http://hz.example.cn/cb', 'https://hz.example.cn/cb#x', 'https://*.hz.example.cn/cb', 'https://u:p@hz.example.cn/cb',
        'hz.example.cn/cb', 'myapp://cb', 'javascript:alert(1)', 'https://hz.example.cn/a b']) {
        assert.deepEqual(problemsOf(app({ redirect_uris: [bad] }), 'development'), ['redirect_uris:invalid_redirect_uri'], bad);
      }
      assert.deepEqual(problemsOf(app({ redirect_uris: [] })), ['redirect_uris:invalid_redirect_uri']);
      assert.deepEqual(problemsOf(app({ redirect_uris: ['https://a.example.cn/cb', 'https://a.example.cn/cb'] })), ['redirect_uris:invalid_redirect_uri']);
      assert.deepEqual(problemsOf(app({ redirect_uris: ['https://a.example.cn/cb', 'https://b.example.cn/cb'] })), ['redirect_uris:invalid_redirect_uri']);
      assert.deepEqual(problemsOf(app({ post_logout_redirect_uris: ['https://other.example.cn/bye'], backchannel_logout_uri: 'https://other.example.cn/bc' })), []);
      assert.deepEqual(problemsOf(app({ backchannel_logout_uri: 'http://other.example.cn/bc' })), ['backchannel_logout_uri:invalid_redirect_uri']);
    });

    it('scopes, grants, auth methods, keys and first-party', () => {
      assert.deepEqual(problemsOf(app({ scope: 'openid id_number legal_person offline_access phone profile' })), []);
      assert.deepEqual(problemsOf(app({ scope: 'openid email' })), ['scope:invalid_scope']);
      assert.deepEqual(problemsOf(app({ scope: 'profile' })), ['scope:invalid_scope']);
      assert.deepEqual(checkAppInput(app({ scope: 'openid id_number' }), { mode: 'production', allowedScopes: ['openid', 'profile'] }).problems.map((p) => p.code), ['invalid_scope']);
      assert.deepEqual(problemsOf(app({ grant_types: ['implicit'] })), ['grant_types:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ token_endpoint_auth_method: 'client_secret_jwt' })), ['token_endpoint_auth_method:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://hz.example.cn/jwks' })), []);
      assert.deepEqual(problemsOf(app({ token_endpoint_auth_method: 'private_key_jwt' })), ['jwks_uri:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://hz.example.cn/jwks', jwks: { keys: [{ kty: 'EC' }] } })), ['jwks_uri:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ jwks_uri: 'https://hz.example.cn/jwks' })), ['jwks_uri:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'private' }] } })), ['jwks:invalid_app_metadata']);
      assert.deepEqual(checkAppInput(app({ first_party: true }), { mode: 'production', allowFirstParty: false }).problems.map((p) => p.field), ['first_party']);
      assert.deepEqual(problemsOf(app({ city: '000000', name: '' })), ['city:invalid_division_code', 'name:invalid_app_metadata']);
      assert.deepEqual(problemsOf(app({ client_id: 'a b' })), ['client_id:invalid_app_metadata']);
    });
  });

  describe('secrets', () => {
    it('hashes with scrypt, verifies the right secret only', async () => {
      const secret = generateSecret();
      const hash = await hashSecret(secret);
      assert.match(hash, /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]{43}$/);
      assert.equal(hash.includes(secret), false);
      const verifier = createSecretVerifier();
      assert.equal(await verifier.verify(secret, hash), true);
      assert.equal(await verifier.verify(secret, hash), true, 'remembered');
      assert.equal(await verifier.verify(`${secret}x`, hash), false);
      assert.equal(await verifier.verify(hash, hash), false, 'the hash is no secret');
      assert.equal(await verifier.verify(secret, await hashSecret(generateSecret())), false, 'a rotated hash refuses the old secret');
      assert.equal(await verifier.verify(secret, 'scrypt$1$1$1$x$y'), false);
    });
  });

  describe('in one store', () => {
    let store: Store;
    let service: MemberRegistry;
    const configured: ConfiguredClient = { client_id: 'hz-config-portal', client_secret: 'configured-secret', city: '330100', redirect_uris: ['https://config.example.cn/cb'] };

    before(async () => {
      store = await createStore('memory:');
      service = createMemberRegistry({ store, mode: 'production', issuer: 'https://tongban.example.cn', configuredClients: [configured], oidcAdapter: createOidcAdapterFactory(store, { idKey: testIdKey }) });
    });
    after(async () => store?.close());

    it('seeds the reference cities once', async () => {
      assert.equal(await service.seed(seedCities), 27);
      assert.equal(await service.seed(seedCities), 0);
      const other = createMemberRegistry({ store, mode: 'production', issuer: 'https://tongban.example.cn', oidcAdapter: createOidcAdapterFactory(store, { idKey: testIdKey }) });
      assert.equal(await other.seed(seedCities), 0);
      const cities = await service.listCities(actor);
      assert.equal(cities.length, 27);
      assert.deepEqual(cities.find((c) => c.code === '310000'), { ...cities.find((c) => c.code === '310000'), name: '上海', province: '310000', source: 'seed' });
      assert.equal(cities.find((c) => c.code === '330100')!.apps, 1, 'the configured client counts');
    });

    it('writes nothing for a refused registration', async () => {
      const trail = (await service.audit(actor, { limit: 1000 })).length;
      await assert.rejects(service.registerApp(actor, app({ redirect_uris: ['https://a.example.cn/cb#x'], scope: 'openid nope' })),
        (error: RegistryError) => error.code === 'invalid_redirect_uri' && error.problems.length === 2);
      await assert.rejects(service.registerApp(actor, app({ client_id: 'hz-config-portal' })), (error: RegistryError) => error.code === 'app_exists');
      await assert.rejects(service.registerApp(actor, app({ client_id: 'tongban-legacy-zhejiang' })), (error: RegistryError) => error.code === 'invalid_app_metadata');
      await assert.rejects(service.suspendApp(actor, 'hz-config-portal'), (error: RegistryError) => error.code === 'invalid_request' && /configuration file/.test(error.message));
      assert.equal((await service.audit(actor, { limit: 1000 })).length, trail);
      const view = await service.showCity(actor, '330100');
      assert.deepEqual(view.apps.map((a) => `${a.client_id}:${a.source}`), ['hz-config-portal:config']);
    });

    it('serves an app to oidc-provider with its secret hashed, pairwise, in its city', async () => {
      const registered = await service.registerApp(actor, app({ scope: 'openid profile id_number', backchannel_logout_uri: 'https://banshi.hangzhou.example.cn/bc' }));
      const stored = await service.records.app(registered.client_id, { fresh: true });
      const metadata = clientMetadataOfApp(stored!);
      assert.equal(metadata.client_id, registered.client_id);
      assert.match(String(metadata.client_secret), /^scrypt\$/);
      assert.equal(metadata.subject_type, 'pairwise');
      assert.equal(metadata.city, '330100');
      assert.equal(metadata.scope, 'openid profile id_number');
      assert.equal(metadata.backchannel_logout_session_required, true);
      assert.equal(await service.secrets.verify(registered.client_secret!, String(metadata.client_secret)), true);
    });
  });

  describe('several nodes on one Redis', () => {
    const url = 'redis://127.0.0.1:6379';
    const namespace = `registry-${Math.random().toString(36).slice(2, 10)}`;
    let stores: Store[] = [];
    let nodeA: MemberRegistry;
    let nodeB: MemberRegistry;

    before(async () => {
      stores = await Promise.all([createStore(url, { namespace }), createStore(url, { namespace })]);
      nodeA = createMemberRegistry({ store: stores[0]!, mode: 'production', issuer: 'https://tongban.example.cn', refreshMs: 200, oidcAdapter: createOidcAdapterFactory(stores[0]!, { idKey: testIdKey }) });
      nodeB = createMemberRegistry({ store: stores[1]!, mode: 'production', issuer: 'https://tongban.example.cn', refreshMs: 200, oidcAdapter: createOidcAdapterFactory(stores[1]!, { idKey: testIdKey }) });
    });
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    it('seeds once when two nodes start together', async () => {
      const added = await Promise.all([nodeA.seed(seedCities), nodeB.seed(seedCities)]);
      assert.equal(added[0]! + added[1]!, 27);
      assert.equal((await nodeB.listCities(actor)).length, 27);
    });

    it('sees a change made on another node within the refresh interval', async () => {
      const registered = await nodeA.registerApp(actor, app({ name: '跨节点应用' }));
      assert.equal((await nodeB.records.app(registered.client_id))?.status, 'active', 'a new app is found at once');
      await nodeA.suspendApp(actor, registered.client_id);
      assert.equal((await nodeB.records.app(registered.client_id, { fresh: true }))?.status, 'suspended', 'a fresh read sees it at once');
      const deadline = Date.now() + 1000;
      let seen = (await nodeB.records.app(registered.client_id))?.status;
      while (seen !== 'suspended' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = (await nodeB.records.app(registered.client_id))?.status;
      }
      assert.equal(seen, 'suspended');
    });

    it('loses no change when nodes change one app at the same time', async () => {
      const registered = await nodeA.registerApp(actor, app({ name: '并发应用' }));
      const rotations = await Promise.all([nodeA, nodeB, nodeA, nodeB, nodeA, nodeB].map((node) => node.rotateSecret(actor, registered.client_id)));
      const final = await nodeA.records.app(registered.client_id, { fresh: true });
      assert.equal(final!.revision, 1 + rotations.length, 'every rotation was applied, one after the other');
      const valid = await Promise.all(rotations.map((r) => nodeA.secrets.verify(r.client_secret, final!.secret_hash!)));
      assert.equal(valid.filter(Boolean).length, 1, 'exactly the last secret handed out works');
      const entries = await nodeB.audit(actor, { city: '330100', limit: 1000 });
      assert.equal(entries.filter((e) => e.action === 'app.rotate_secret' && e.target.id === registered.client_id).length, rotations.length);
    });

    it('refuses a duplicate city added on two nodes at once', async () => {
      const results = await Promise.allSettled([nodeA.addCity(actor, { code: '320583', name: '昆山' }), nodeB.addCity(actor, { code: '320583', name: '昆山' })]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((refused.reason as RegistryError).code, 'city_exists');
    });
  });
});
