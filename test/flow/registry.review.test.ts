/**
 * The member registry's answers to the security and privacy review (issue 12 items 3 and 9, issue
 * 13 item 3), below the HTTP layer: one client-id namespace for apps, services, configured and
 * internal clients (taken atomically, also between two nodes on one Redis); redirect URIs as OIDC
 * Core 8.1 reads them, `sector_identifier_uri` fetched and checked; ID-number entitlement granted
 * by the federation only, and the purposes an app states for its sensitive items.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seedCities } from '../../config/cities.ts';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { checkAppInput, cliActor, createMemberRegistry, RegistryError, type Actor, type AppInput, type MemberRegistry } from '../../broker/members/index.ts';
import { appPurposes } from '../../broker/members/purposes.ts';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { createResourceServerRecords, defaultServiceClientId, type ResourceServerRecords } from '../../broker/resources/records.ts';

/** The deployment secret's store-id key, as the broker derives it (here: one fixed test secret). */
const testIdKey = 'test deployment secret';

const redisUrl = 'redis://127.0.0.1:6379';
const cli = cliActor();
const zhejiangOperator: Actor = { kind: 'operator', id: 'aaaaaaaaaaaa', name: '浙江省大数据局', role: 'province', province: '330000' };
const federationOperator: Actor = { kind: 'operator', id: 'bbbbbbbbbbbb', name: '长三角一网通办运营', role: 'federation' };
const app = (overrides: Partial<Record<keyof AppInput, unknown>> = {}): AppInput => ({
  city: '330100', name: `杭州办事 ${Math.random().toString(36).slice(2, 8)}`, redirect_uris: ['https://banshi.hangzhou.example.cn/cb'], ...overrides,
});
const shanghaiFund = 'https://gjj.shanghai.example.gov.cn/api';
const configured: ConfiguredClient = { client_id: 'hz-config-portal', client_secret: 'configured-secret', city: '330100', redirect_uris: ['https://config.example.cn/cb'] };

function registryOn(store: Store, mode: 'production' | 'development' = 'production'): MemberRegistry {
  return createMemberRegistry({ store, mode, issuer: 'https://tongban.example.cn', configuredClients: [configured], oidcAdapter: createOidcAdapterFactory(store, { idKey: testIdKey }) });
}

function servicesOn(store: Store, registry: MemberRegistry): ResourceServerRecords {
  return createResourceServerRecords({
    store,
    isClientIdTaken: async (id) => registry.configuredClientIds.has(id) || (await registry.records.app(id)) !== undefined,
  });
}

const codeOf = (code: string) => (error: unknown) => {
  assert.equal((error as RegistryError).code, code, String(error));
  return true;
};

describe('member registry after the review', function () {
  this.timeout(20_000);

  describe('one client-id namespace (12.3)', () => {
    let store: Store;
    let registry: MemberRegistry;
    let services: ResourceServerRecords;
    before(async () => {
      store = await createStore('memory:');
      registry = registryOn(store);
      await registry.seed(seedCities);
      services = servicesOn(store, registry);
    });
    after(async () => store?.close());

    it('refuses the hijack: a province operator registering another province\'s service id as its app', async () => {
      const { record } = await services.register({ identifier: shanghaiFund, city: '310000', scopes: ['gjj:read'] }, { actor: 'op' });
      assert.equal(record.serviceClientId, defaultServiceClientId(shanghaiFund), 'predictable: rs-<host><path>');
      const trail = (await registry.audit(cli, { limit: 1000 })).length;
      // Attack inputs, each refused with app_exists and nothing written: the service's id by an operator
      // (secret and private_key_jwt alike), through the CLI, and by dynamic registration.
      const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] };
      for (const [who, input] of [
        [zhejiangOperator, app({ client_id: record.serviceClientId })],
        [zhejiangOperator, app({ client_id: record.serviceClientId, token_endpoint_auth_method: 'private_key_jwt', jwks })],
        [cli, app({ client_id: record.serviceClientId })],
      ] as const) {
        await assert.rejects(registry.registerApp(who, input), (error: RegistryError) => error.code === 'app_exists' && /resource service/.test(error.message));
      }
      await assert.rejects(registry.saveRegisteredClient({
        client_id: record.serviceClientId, city: '330100', client_name: 'dcr', redirect_uris: ['https://dcr.example.cn/cb'], token_endpoint_auth_method: 'client_secret_basic',
      }, { kind: 'dynamic_registration', client_id: record.serviceClientId }), codeOf('app_exists'));
      assert.equal(await registry.records.app(record.serviceClientId, { fresh: true }), undefined);
      assert.equal((await registry.audit(cli, { limit: 1000 })).length, trail);
      assert.deepEqual(await registry.clientIds.holderOf(record.serviceClientId), { kind: 'service', ref: shanghaiFund });
    });

    it('refuses a service taking an app\'s, a configured or an internal client id, and frees ids on removal', async () => {
      const registered = await registry.registerApp(cli, app({ client_id: 'hz-gjj-portal' }));
      for (const serviceClientId of [registered.client_id, configured.client_id, 'tongban-legacy-zhejiang']) {
        await assert.rejects(services.register({ identifier: 'https://x.hangzhou.example.gov.cn/api', city: '330100', scopes: ['x:read'], serviceClientId }, { actor: 'op' }),
          (error: { code?: string; status?: number }) => error.code === 'resource_conflict' && error.status === 409, serviceClientId);
      }
      assert.equal(await services.get('https://x.hangzhou.example.gov.cn/api'), undefined);
      // A service that changes its client id frees the old one; a removed app frees its id.
      await services.register({ identifier: 'https://y.hangzhou.example.gov.cn/api', city: '330100', scopes: ['y:read'], serviceClientId: 'hz-y-api' }, { actor: 'op' });
      await services.register({ identifier: 'https://y.hangzhou.example.gov.cn/api', city: '330100', scopes: ['y:read'], serviceClientId: 'hz-y-api-2' }, { actor: 'op' });
      assert.equal(await registry.clientIds.holderOf('hz-y-api'), undefined);
      await registry.removeApp(cli, registered.client_id);
      assert.equal(await registry.clientIds.holderOf(registered.client_id), undefined);
      await registry.registerApp(cli, app({ client_id: 'hz-y-api' }));
    });

    it('holds for ids registered before the namespace existed (no holder record yet)', async () => {
      // An older store: the service record alone, written as before.
      await store.set('resource-client:rs-old-api', 'https://old.example.gov.cn/api');
      await assert.rejects(registry.registerApp(zhejiangOperator, app({ client_id: 'rs-old-api' })), codeOf('app_exists'));
    });

    it('two nodes on one Redis racing for one id: exactly one gets it', async () => {
      const namespace = `namespace-${Math.random().toString(36).slice(2, 10)}`;
      const stores = [await createStore(redisUrl, { namespace }), await createStore(redisUrl, { namespace })];
      try {
        const registries = stores.map((s) => registryOn(s));
        await registries[0]!.seed(seedCities);
        const id = 'race-gjj-api';
        const attempts = await Promise.allSettled([
          registries[0]!.registerApp(cli, app({ client_id: id })),
          servicesOn(stores[1]!, registries[1]!).register({ identifier: `https://${id}.example.gov.cn/api`, city: '310000', scopes: ['r:read'], serviceClientId: id }, { actor: 'op' }),
          registries[1]!.registerApp(cli, app({ client_id: id, city: '330200' })),
          servicesOn(stores[0]!, registries[0]!).register({ identifier: `https://${id}-2.example.gov.cn/api`, city: '320500', scopes: ['r:read'], serviceClientId: id }, { actor: 'op' }),
        ]);
        assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 1, JSON.stringify(attempts.map((a) => a.status === 'rejected' ? String(a.reason) : 'ok')));
        const holder = await registries[1]!.clientIds.holderOf(id);
        const app0 = await registries[0]!.records.app(id, { fresh: true });
        const services = await servicesOn(stores[0]!, registries[0]!).list();
        const asService = services.filter((s) => s.serviceClientId === id);
        assert.equal((app0 ? 1 : 0) + asService.length, 1, 'one record holds the id');
        assert.equal(holder?.kind, app0 ? 'app' : 'service');
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });

  describe('redirect URIs as OIDC Core 8.1 reads them (12.9)', () => {
    const problems = (input: AppInput, mode: 'production' | 'development' = 'production') => checkAppInput(input, { mode }).problems;

    it('accepts several ports of one host, and the PC and mobile sites of one organisation', () => {
      assert.deepEqual(problems(app({ redirect_uris: ['https://a.example.cn/cb', 'https://a.example.cn:8443/cb'] })), []);
      assert.deepEqual(problems(app({ redirect_uris: ['https://www.hangzhou.gov.cn/cb', 'https://m.hangzhou.gov.cn/cb', 'https://hangzhou.gov.cn/cb'] })), []);
      assert.deepEqual(problems(app({ redirect_uris: ['https://example.cn/cb', 'https://www.example.cn/cb'] })), []);
      assert.deepEqual(problems(app({ redirect_uris: ['http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb'] }), 'development'), []);
    });

    it('refuses hosts of different organisations without sector_identifier_uri, saying which rule and why', () => {
      for (const set of [
        ['https://www.hangzhou.gov.cn/cb', 'https://www.ningbo.gov.cn/cb'],
        ['https://a.example.cn/cb', 'https://b.example.cn/cb'],
        ['https://www.example.cn/cb', 'https://www.example.com.cn/cb'],
      ]) {
        const found = problems(app({ redirect_uris: set }));
        assert.equal(found.length, 1, set.join(' '));
        assert.equal(found[0]!.code, 'invalid_redirect_uri');
        assert.match(found[0]!.message, /OIDC Core 8\.1.*sector_identifier_uri/);
      }
      assert.deepEqual(problems(app({ redirect_uris: ['https://www.hangzhou.gov.cn/cb', 'https://www.ningbo.gov.cn/cb'], sector_identifier_uri: 'https://hangzhou.gov.cn/sector.json' })), []);
      assert.equal(problems(app({ sector_identifier_uri: 'http://hangzhou.gov.cn/sector.json' }))[0]?.field, 'sector_identifier_uri');
      assert.equal(problems(app({ sector_identifier_uri: 'https://10.0.0.8/sector.json' }))[0]?.field, 'sector_identifier_uri');
    });

    describe('sector_identifier_uri, fetched at registration', () => {
      let server: http.Server;
      let base: string;
      let store: Store;
      let registry: MemberRegistry;
      const hosts = ['https://www.jiaxing-a.cn/cb', 'https://m.jiaxing-b.cn/cb'];
      const answers: Record<string, [number, string]> = {
        '/all.json': [200, JSON.stringify([...hosts, 'https://other.cn/cb'])],
        '/missing.json': [200, JSON.stringify([hosts[0]])],
        '/object.json': [200, JSON.stringify({ redirect_uris: hosts })],
        '/broken.json': [200, '[not json'],
        '/gone.json': [404, '[]'],
      };
      before(async () => {
        server = http.createServer((req, res) => {
          const [status, body] = answers[req.url ?? ''] ?? [404, ''];
          res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        store = await createStore('memory:');
        registry = registryOn(store, 'development');
        await registry.seed(seedCities);
      });
      after(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await store?.close();
      });

      it('registers when the fetched array lists every redirect URI', async () => {
        const registered = await registry.registerApp(cli, app({ city: '330400', redirect_uris: hosts, sector_identifier_uri: `${base}/all.json` }));
        assert.equal((await registry.records.app(registered.client_id, { fresh: true }))?.sector_identifier_uri, `${base}/all.json`);
      });

      it('refuses a list that misses one, is no array, is no JSON, or is not there: nothing written', async () => {
        const before = (await registry.listCities(cli)).find((c) => c.code === '330400')!.apps;
        for (const [path, pattern] of [['/missing.json', /missing https:\/\/m\.jiaxing-b\.cn\/cb/], ['/object.json', /JSON array/], ['/broken.json', /not JSON/], ['/gone.json', /404/]] as const) {
          await assert.rejects(registry.registerApp(cli, app({ city: '330400', redirect_uris: hosts, sector_identifier_uri: `${base}${path}` })),
            (error: RegistryError) => error.code === 'invalid_app_metadata' && error.problems[0]?.field === 'sector_identifier_uri' && pattern.test(error.message) && /OIDC Core 8\.1/.test(error.message), path);
        }
        assert.equal((await registry.listCities(cli)).find((c) => c.code === '330400')!.apps, before);
      });
    });
  });

  describe('ID numbers are a federation decision; apps state their purposes (13.3)', () => {
    let store: Store;
    let registry: MemberRegistry;
    before(async () => {
      store = await createStore('memory:');
      registry = registryOn(store);
      await registry.seed(seedCities);
    });
    after(async () => store?.close());

    it('refuses a province operator granting id_number to an app or into a city\'s registration scopes', async () => {
      const trail = (await registry.audit(cli, { limit: 1000 })).length;
      await assert.rejects(registry.registerApp(zhejiangOperator, app({ scope: 'openid id_number' })),
        (error: RegistryError) => error.code === 'forbidden' && error.status === 403 && /federation decision/.test(error.message));
      await assert.rejects(registry.addCity(zhejiangOperator, { code: '330381', name: '瑞安', registration_scopes: 'openid profile id_number' }),
        (error: RegistryError) => error.code === 'forbidden' && /federation decision/.test(error.message));
      assert.equal((await registry.audit(cli, { limit: 1000 })).length, trail, 'nothing written');
      assert.equal(await registry.records.city('330381'), undefined);
      // Without id_number the province operator may; a federation operator and the CLI may grant it.
      await registry.registerApp(zhejiangOperator, app({ scope: 'openid phone', purposes: { phone: '办件进度短信通知' } }));
      await registry.registerApp(federationOperator, app({ scope: 'openid id_number', purposes: { id_number: '公积金提取核验身份' } }));
      await registry.registerApp(cli, app({ scope: 'openid id_number' }));
      await registry.addCity(federationOperator, { code: '330381', name: '瑞安', registration_scopes: 'openid profile id_number' });
      await registry.addCity(zhejiangOperator, { code: '330382', name: '乐清', registration_scopes: 'openid profile' });
    });

    it('refuses id_number at dynamic registration unless the federation put it into the city\'s scopes', async () => {
      await assert.rejects(registry.saveRegisteredClient({
        client_id: 'dcr-hz-1', city: '330100', client_name: 'dcr 1', redirect_uris: ['https://dcr.example.cn/cb'], scope: 'openid id_number',
      }, { kind: 'dynamic_registration', client_id: 'dcr-hz-1' }), codeOf('invalid_scope'));
      const saved = await registry.saveRegisteredClient({
        client_id: 'dcr-ra-1', city: '330381', client_name: 'dcr 2', redirect_uris: ['https://dcr.example.cn/cb'], scope: 'openid id_number', purposes: { id_number: '不动产登记核验' },
      }, { kind: 'dynamic_registration', client_id: 'dcr-ra-1' });
      assert.deepEqual(saved.purposes, { id_number: '不动产登记核验' });
    });

    it('stores the purpose stated per sensitive item and serves it by client id', async () => {
      const registered = await registry.registerApp(cli, app({ scope: 'openid id_number phone', purposes: { id_number: '社保卡申领核验身份', phone: '领卡通知' } }));
      assert.deepEqual(await appPurposes(registry.records, registered.client_id), { id_number: '社保卡申领核验身份', phone: '领卡通知' });
      assert.deepEqual(await appPurposes(registry.records, 'no-such-app'), {});
      for (const [purposes, field] of [
        [{ id_number: '' }, 'purposes.id_number'],
        [{ phone: 'x' }, 'purposes.phone'],
        [{ name: '为什么' }, 'purposes.name'],
        [{ id_number: 'a\u0007b' }, 'purposes.id_number'],
        [['id_number'], 'purposes'],
      ] as const) {
        await assert.rejects(registry.registerApp(cli, app({ scope: 'openid id_number', purposes })),
          (error: RegistryError) => error.code === 'invalid_app_metadata' && error.problems[0]?.field === field, JSON.stringify(purposes));
      }
    });
  });
});
