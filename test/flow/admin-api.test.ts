/**
 * The admin API over real HTTP: operator API keys (hashed in the store), a federation operator who
 * may do everything, a province operator confined to its province, every bad input as a JSON 4xx
 * with nothing written, and a private_key_jwt app registered through the API that logs in.
 */
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { cliActor } from '../../broker/members/index.ts';
import { hashSecret } from '../../broker/platform/crypto/client-secrets.ts';
import { Browser } from '../support/browser.ts';
import { login, relyingParty, startFederation, type Federation } from '../support/federation.ts';

/** The secret half of an API key `tbo_<12 hex>_<secret>` (the secret itself may contain "_"). */
const secretOf = (key: string) => key.slice('tbo_'.length + 12 + 1);

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('admin API', function () {
  this.timeout(30_000);
  let federation: Federation;
  let federationKey: string;
  let zhejiangKey: string;
  let zhejiangOperatorId: string;

  const call = async (key: string | undefined, method: string, path: string, body?: unknown, raw?: string): Promise<Answer> => {
    const response = await fetch(new URL(path, federation.issuer), {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}),
    });
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };
  const auditSize = async () => ((await call(federationKey, 'GET', '/admin/audit?limit=1000')).body.entries as unknown[]).length;

  const configuredSecret = 'a-configured-secret-kept-as-a-hash-in-the-file';
  before(async () => {
    federation = await startFederation({
      clients: [{ client_id: 'shaoxing-config', client_secret: await hashSecret(configuredSecret), city: '330600', redirect_uris: ['http://127.0.0.1:9/shaoxing/cb'], first_party: true }],
    });
    const service = federation.broker.registry;
    federationKey = (await service.addOperator(cliActor(), { name: '长三角一网通办运营', role: 'federation' })).api_key;
    const zhejiang = await service.addOperator(cliActor(), { name: '浙江省大数据局', role: 'province', province: '330000' });
    zhejiangKey = zhejiang.api_key;
    zhejiangOperatorId = zhejiang.operator.id;
  });
  after(async () => federation?.stop());

  describe('authentication', () => {
    it('refuses a missing, malformed, unknown or wrong key with 401 invalid_token', async () => {
      const wrongSecret = `${federationKey.slice(0, -4)}AAAA`;
      for (const key of [undefined, 'nonsense', 'tbo_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', wrongSecret]) {
        const answer = await call(key, 'GET', '/admin/cities');
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error, 'invalid_token');
      }
      const me = await call(zhejiangKey, 'GET', '/admin/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.role, 'province');
      assert.equal(me.body.province, '330000');
    });

    it('stores operator keys hashed only', async () => {
      const record = await federation.store.get<Record<string, unknown>>(`registry:operator:${zhejiangOperatorId}`);
      assert.ok(record);
      // Generated keys: a keyed SHA-256 (cheap to refuse a wrong key), never the key itself.
      assert.match(String(record.key_hash), /^hmac-sha256\$/);
      assert.equal(JSON.stringify(record).includes(secretOf(zhejiangKey)), false);
    });

    it('unknown operations: 404 JSON', async () => {
      const answer = await call(federationKey, 'GET', '/admin/nothing-here');
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error, 'not_found');
      const wrongMethod = await call(federationKey, 'PUT', '/admin/cities');
      assert.equal(wrongMethod.status, 405);
    });
  });

  describe('a federation operator', () => {
    let clientId: string;

    it('adds a city, registers, shows, suspends, resumes, rotates and removes an app', async () => {
      const city = await call(federationKey, 'POST', '/admin/cities', { code: '320509', name: '吴江区' });
      assert.equal(city.status, 201);
      assert.equal(city.body.province, '320000');

      const registered = await call(federationKey, 'POST', '/admin/cities/320509/apps', {
        name: '吴江政务服务', redirect_uris: ['https://wujiang.example.cn/callback'], scope: 'openid profile id_number', first_party: true,
      });
      assert.equal(registered.status, 201);
      clientId = String(registered.body.client_id);
      assert.equal(typeof registered.body.client_secret, 'string');
      assert.equal(registered.body.secret_hash, undefined);
      assert.equal(registered.body.first_party, true);

      const shown = await call(federationKey, 'GET', '/admin/cities/320509');
      assert.deepEqual((shown.body.apps as Array<{ client_id: string }>).map((a) => a.client_id), [clientId]);
      assert.equal((await call(federationKey, 'POST', `/admin/apps/${clientId}/suspend`)).body.status, 'suspended');
      assert.equal((await call(federationKey, 'POST', `/admin/apps/${clientId}/resume`)).body.status, 'active');
      const rotated = await call(federationKey, 'POST', `/admin/apps/${clientId}/rotate-secret`);
      assert.equal(rotated.body.client_id, clientId);
      assert.notEqual(rotated.body.client_secret, registered.body.client_secret);
      assert.equal((await call(federationKey, 'DELETE', `/admin/apps/${clientId}`)).status, 200);
      assert.equal((await call(federationKey, 'GET', `/admin/apps/${clientId}`)).status, 404);
    });

    it('reads the whole audit trail, with before/after and without secrets', async () => {
      const audit = await call(federationKey, 'GET', '/admin/audit?city=320509');
      const entries = audit.body.entries as Array<{ action: string; actor: { kind: string; id?: string }; before?: { status?: string }; after?: { status?: string } }>;
      assert.deepEqual(entries.map((e) => e.action).reverse(), ['city.add', 'app.register', 'app.suspend', 'app.resume', 'app.rotate_secret', 'app.remove']);
      assert.ok(entries.every((e) => e.actor.kind === 'operator'));
      const suspend = entries.find((e) => e.action === 'app.suspend')!;
      assert.deepEqual([suspend.before?.status, suspend.after?.status], ['active', 'suspended']);
      assert.doesNotMatch(JSON.stringify(audit.body), /scrypt\$|hmac-sha256\$|secret_hash|client_secret"/);
    });

    it('manages operators and issues initial access tokens', async () => {
      const added = await call(federationKey, 'POST', '/admin/operators', { name: '安徽省数据资源局', role: 'province', province: '340000' });
      assert.equal(added.status, 201);
      const anhuiKey = String(added.body.api_key);
      assert.equal((await call(anhuiKey, 'GET', '/admin/cities')).status, 200);
      const id = (added.body.operator as { id: string }).id;
      assert.equal((await call(federationKey, 'POST', `/admin/operators/${id}/revoke`)).body.status, 'revoked');
      assert.equal((await call(anhuiKey, 'GET', '/admin/cities')).status, 401, 'a revoked key stops working at once');
      const listed = await call(federationKey, 'GET', '/admin/operators');
      assert.ok((listed.body.operators as Array<{ id: string; key_hash?: string }>).every((o) => o.key_hash === undefined));

      const token = await call(federationKey, 'POST', '/admin/cities/320500/initial-access-tokens', { ttl_seconds: 600 });
      assert.equal(token.status, 201);
      assert.equal(token.body.city, '320500');
      assert.equal(token.body.registration_endpoint, `${federation.issuer}/reg`);
      assert.equal(typeof token.body.initial_access_token, 'string');
    });
  });

  describe('a province operator (浙江 330000)', () => {
    it('works within its province', async () => {
      const cities = (await call(zhejiangKey, 'GET', '/admin/cities')).body.cities as Array<{ code: string }>;
      assert.ok(cities.length >= 9);
      assert.ok(cities.every((c) => c.code.startsWith('33')));
      const city = await call(zhejiangKey, 'POST', '/admin/cities', { code: '330421', name: '嘉善县' });
      assert.equal(city.status, 201);
      const app = await call(zhejiangKey, 'POST', '/admin/cities/330421/apps', { name: '嘉善办事', redirect_uris: ['https://jiashan.example.cn/cb'] });
      assert.equal(app.status, 201);
      assert.equal((await call(zhejiangKey, 'POST', `/admin/apps/${String(app.body.client_id)}/suspend`)).status, 200);
      const audit = (await call(zhejiangKey, 'GET', '/admin/audit')).body.entries as Array<{ province?: string }>;
      assert.ok(audit.length >= 3);
      assert.ok(audit.every((e) => e.province === '330000'), 'only its province in the trail');
      const token = await call(zhejiangKey, 'POST', '/admin/cities/330100/initial-access-tokens', {});
      assert.equal(token.status, 201);
    });

    it('gets 403 JSON outside its province, and nothing is written', async () => {
      const outside = await call(federationKey, 'POST', '/admin/cities/320500/apps', { name: '苏州公积金', redirect_uris: ['https://gjj.suzhou.example.cn/cb'] });
      const suzhouApp = String(outside.body.client_id);
      const entries = await auditSize();
      const attempts: Array<[string, string, unknown?]> = [
        ['POST', '/admin/cities', { code: '320583', name: '昆山市' }],
        ['GET', '/admin/cities/320500'],
        ['POST', '/admin/cities/320500/apps', { name: '苏州办事', redirect_uris: ['https://suzhou.example.cn/cb'] }],
        ['GET', `/admin/apps/${suzhouApp}`],
        ['POST', `/admin/apps/${suzhouApp}/suspend`],
        ['POST', `/admin/apps/${suzhouApp}/rotate-secret`],
        ['DELETE', `/admin/apps/${suzhouApp}`],
        ['POST', '/admin/cities/320500/initial-access-tokens', {}],
        ['GET', '/admin/audit?city=320500'],
        ['GET', '/admin/operators'],
        ['POST', '/admin/operators', { name: 'x', role: 'federation' }],
      ];
      for (const [method, path, body] of attempts) {
        const answer = await call(zhejiangKey, method, path, body);
        assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, 'forbidden');
        assert.equal(typeof answer.body.error_description, 'string');
      }
      assert.equal(await auditSize(), entries);
      assert.equal((await call(federationKey, 'GET', `/admin/apps/${suzhouApp}`)).body.status, 'active');
    });

    it('cannot take a Shanghai service\'s client id as its app, nor grant ID numbers (issue 12.3, 13.3)', async () => {
      const { record } = await federation.broker.resources.register({ identifier: 'https://gjj.shanghai.example.gov.cn/admin-test', city: '310000', scopes: ['gjj:read'] }, { actor: 'test' });
      const entries = await auditSize();
      const hijack = await call(zhejiangKey, 'POST', '/admin/cities/330100/apps', { client_id: record.serviceClientId, name: '杭州冒名', redirect_uris: ['https://hijack.example.cn/cb'] });
      assert.equal(hijack.status, 409, JSON.stringify(hijack.body));
      assert.equal(hijack.body.error, 'app_exists');
      assert.match(String(hijack.body.error_description), /resource service/);
      const asConfigured = await call(zhejiangKey, 'POST', '/admin/cities/330100/apps', { client_id: 'shaoxing-config', name: '杭州冒名二', redirect_uris: ['https://hijack.example.cn/cb'] });
      assert.equal(asConfigured.status, 409);
      for (const [path, body] of [
        ['/admin/cities/330100/apps', { name: '杭州身份核验', redirect_uris: ['https://idcheck.example.cn/cb'], scope: 'openid id_number' }],
        ['/admin/cities', { code: '330482', name: '平湖市', registration_scopes: ['openid', 'id_number'] }],
      ] as const) {
        const refused = await call(zhejiangKey, 'POST', path, body);
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'forbidden');
        assert.match(String(refused.body.error_description), /federation decision/);
      }
      assert.equal(await auditSize(), entries, 'nothing written');
      const granted = await call(federationKey, 'POST', '/admin/cities/330200/apps', {
        name: '杭州身份核验', redirect_uris: ['https://idcheck.example.cn/cb'], scope: 'openid id_number', purposes: { id_number: '不动产登记核验身份' },
      });
      assert.equal(granted.status, 201, JSON.stringify(granted.body));
      assert.deepEqual(granted.body.purposes, { id_number: '不动产登记核验身份' });
    });
  });

  describe('bad input: 4xx JSON naming the problem, nothing written', () => {
    it('refuses each, and the store is unchanged', async () => {
      const entries = await auditSize();
      const cases: Array<[string, string, unknown, number, string, RegExp?]> = [
        ['POST', '/admin/cities', { code: '33010', name: '短' }, 400, 'invalid_division_code', /"33010"/],
        ['POST', '/admin/cities', { code: '330100', name: '杭州' }, 409, 'city_exists'],
        ['POST', '/admin/cities', { code: '330110' }, 400, 'invalid_request', /name/],
        ['POST', '/admin/cities/999999/apps', { name: 'x', redirect_uris: ['https://x.example/cb'] }, 400, 'invalid_division_code'],
        ['POST', '/admin/cities/330182/apps', { name: 'x', redirect_uris: ['https://x.example/cb'] }, 404, 'city_not_found', /330182/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: ['https://x.example/cb#a'] }, 400, 'invalid_redirect_uri', /fragment/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: ['http://x.example/cb'] }, 400, 'invalid_redirect_uri', /https/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: 'https://x.example/*' }, 400, 'invalid_redirect_uri', /wildcard/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: ['https://x.example/cb'], backchannel_logout_uri: 'http://x.example/bc' }, 400, 'invalid_redirect_uri', /backchannel_logout_uri/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', d: 'secret' }] } }, 400, 'invalid_app_metadata', /public keys only/],
        ['POST', '/admin/cities/330100/apps', { name: 'x', redirect_uris: ['https://x.example/cb'], city: '320500' }, 400, 'invalid_request', /path/],
        ['GET', '/admin/apps/no-such-app', undefined, 404, 'app_not_found'],
        ['POST', '/admin/apps/no-such-app/suspend', undefined, 404, 'app_not_found'],
        ['GET', '/admin/audit?limit=0', undefined, 400, 'invalid_request', /limit/],
        ['POST', '/admin/cities/330100/initial-access-tokens', { ttl_seconds: 5 }, 400, 'invalid_request', /ttl_seconds/],
        ['POST', '/admin/operators', { name: 'x', role: 'province', province: '330100' }, 400, 'invalid_division_code', /province code/],
      ];
      for (const [method, path, body, status, error, naming] of cases) {
        const answer = await call(federationKey, method, path, body);
        assert.equal(answer.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, error);
        if (naming) assert.match(String(answer.body.error_description), naming);
      }
      const duplicate = { name: '杭州市民卡', redirect_uris: ['https://card.hangzhou.example.cn/cb'] };
      assert.equal((await call(federationKey, 'POST', '/admin/cities/330100/apps', duplicate)).status, 201);
      const again = await call(federationKey, 'POST', '/admin/cities/330100/apps', duplicate);
      assert.equal(again.status, 409);
      assert.equal(again.body.error, 'app_exists');

      const malformed = await call(federationKey, 'POST', '/admin/cities', undefined, '{"code": ');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error, 'invalid_request');
      const problems = await call(federationKey, 'POST', '/admin/cities/330100/apps', { name: '', redirect_uris: ['ftp://x/'], scope: 'openid bogus' });
      assert.deepEqual((problems.body.problems as Array<{ field: string }>).map((p) => p.field), ['name', 'redirect_uris', 'scope']);

      assert.equal(await auditSize(), entries + 1, 'only the one good registration was recorded');
      assert.equal(((await call(federationKey, 'GET', '/admin/cities/330100')).body.apps as unknown[]).length, 1);
    });
  });

  describe('apps registered through the API, and the logs', () => {
    it('an app registered through the API with private_key_jwt logs in', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'ningbo-1', alg: 'ES256', use: 'sig' };
      const redirectUri = 'http://127.0.0.1:9/ningbo/callback';
      const registered = await call(zhejiangKey, 'POST', '/admin/cities/330200/apps', {
        name: '宁波甬易办', redirect_uris: [redirectUri], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, first_party: true,
      });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      assert.equal(registered.body.client_secret, undefined, 'no secret for private_key_jwt');
      const clientId = String(registered.body.client_id);
      const config = await oidc.discovery(new URL(federation.issuer), clientId, { redirect_uris: [redirectUri] },
        oidc.PrivateKeyJwt({ key: privateKey, kid: 'ningbo-1' }), { execute: [oidc.allowInsecureRequests] });
      const { tokens } = await login(new Browser(), { config, clientId, redirectUri }, 'zhangsan');
      assert.equal(tokens.claims()!.aud, clientId);
      const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
      assert.equal(introspection.active, true);
    });

    it('a client of the configuration file may keep a scrypt hash instead of its secret', async () => {
      const rp = await relyingParty(federation.issuer, { clientId: 'shaoxing-config', clientSecret: configuredSecret, redirectUri: 'http://127.0.0.1:9/shaoxing/cb' });
      const { tokens } = await login(new Browser(), rp, 'zhangsan');
      assert.equal(tokens.claims()!.aud, 'shaoxing-config');
      const wrong = await relyingParty(federation.issuer, { clientId: 'shaoxing-config', clientSecret: `${configuredSecret}!`, redirectUri: 'http://127.0.0.1:9/shaoxing/cb' });
      await assert.rejects(oidc.tokenIntrospection(wrong.config, tokens.access_token));
      const shown = await call(federationKey, 'GET', '/admin/cities/330600');
      assert.deepEqual((shown.body.apps as Array<{ client_id: string; source: string }>).map((a) => `${a.client_id}:${a.source}`), ['shaoxing-config:config']);
    });

    it('keeps operator keys and client secrets out of the logs', () => {
      const text = JSON.stringify(federation.logger.lines);
      assert.ok(federation.logger.lines.some((line) => line.event === 'admin_request'));
      assert.equal(text.includes(secretOf(federationKey)), false);
      assert.equal(text.includes(secretOf(zhejiangKey)), false);
    });
  });
});
