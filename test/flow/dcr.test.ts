/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) over real HTTP: an initial
 * access token bound to one member city, the city's policy on what an app may ask for, secrets kept
 * hashed, and every bad token or request refused with the standard error and nothing stored.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cliActor } from '../../broker/members/index.ts';
import { Browser } from '../support/browser.ts';
import { login, relyingParty, startFederation, type Federation } from '../support/federation.ts';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly challenge: string | null;
}

describe('dynamic client registration (RFC 7591 / 7592)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let hangzhouToken: string;
  const redirectUri = 'http://127.0.0.1:9/dcr/callback';

  const request = async (method: string, url: string, token: string | undefined, body?: unknown): Promise<Answer> => {
    const response = await fetch(url, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) as Record<string, unknown> : {}, challenge: response.headers.get('www-authenticate') };
  };
  const register = (token: string | undefined, body: unknown) => request('POST', `${federation.issuer}/reg`, token, body);
  const appsOf = async (city: string) => (await federation.broker.registry.showCity(cliActor(), city)).apps.length;

  before(async () => {
    federation = await startFederation({ clients: [] });
    hangzhouToken = (await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330100', ttl_seconds: 600 })).initial_access_token;
  });
  after(async () => federation?.stop());

  describe('a registration with a city-bound initial access token', () => {
    let registered: Record<string, unknown>;

    it('registers the app in the token\'s city, with a secret shown once', async () => {
      const metadata = {
        client_name: '杭州自助注册门户',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile phone',
        subject_type: 'public',
        software_version: '1.0',
        purposes: { phone: '办件进度短信通知' },
      };
      // OIDC Core 8.1: a sector_identifier_uri is fetched and must list every redirect URI (issue 12.9).
      const unreachable = await register(hangzhouToken, { ...metadata, sector_identifier_uri: 'https://elsewhere.example/sector.json' });
      assert.equal(unreachable.status, 400, JSON.stringify(unreachable.body));
      assert.equal(unreachable.body.error, 'invalid_client_metadata');
      assert.match(String(unreachable.body.error_description), /sector_identifier_uri: OIDC Core 8\.1/);
      const answer = await register(hangzhouToken, metadata);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      registered = answer.body;
      assert.equal(registered.city, '330100');
      assert.equal(registered.first_party, false);
      assert.equal(registered.subject_type, 'pairwise', 'subjects stay pairwise whatever the app asks');
      assert.equal(registered.software_version, undefined, 'metadata the broker does not offer is dropped');
      assert.deepEqual(registered.purposes, { phone: '办件进度短信通知' }, 'the purpose stated per sensitive item is kept (issue 13.3)');
      assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic');
      assert.equal(typeof registered.client_secret, 'string');
      assert.doesNotMatch(String(registered.client_secret), /^scrypt/);
      assert.equal(typeof registered.registration_access_token, 'string');
      assert.equal(registered.registration_client_uri, `${federation.issuer}/reg/${String(registered.client_id)}`);

      const stored = await federation.store.get<Record<string, unknown>>(`registry:app:${String(registered.client_id)}`);
      assert.ok(stored);
      assert.equal(stored.registered_via, 'dynamic_registration');
      assert.match(String(stored.secret_hash), /^hmac-sha256\$/, 'a generated secret: the keyed hash');
      assert.equal(JSON.stringify(stored).includes(String(registered.client_secret)), false, 'the secret is stored hashed only');
    });

    it('logs in with the registered credentials', async () => {
      const rp = await relyingParty(federation.issuer, { clientId: String(registered.client_id), clientSecret: String(registered.client_secret), redirectUri });
      const { tokens } = await login(new Browser(), rp, 'wangwu');
      assert.equal(tokens.claims()!.aud, registered.client_id);
      assert.ok(tokens.refresh_token);
      // A wrong secret is refused.
      const wrong = await relyingParty(federation.issuer, { clientId: String(registered.client_id), clientSecret: 'not-the-secret', redirectUri });
      await assert.rejects(login(new Browser(), wrong, 'wangwu'));
    });

    it('reads its registration (RFC 7592) without the stored hash', async () => {
      const answer = await request('GET', String(registered.registration_client_uri), String(registered.registration_access_token));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.client_id, registered.client_id);
      assert.equal(answer.body.client_secret, undefined);
      assert.doesNotMatch(JSON.stringify(answer.body), /scrypt/);
    });

    it('updates its registration with its secret; a wrong secret is refused', async () => {
      const update = {
        client_id: registered.client_id,
        client_name: '杭州自助注册门户（新版）',
        redirect_uris: [redirectUri, 'http://127.0.0.1:9/dcr/callback2'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile phone',
      };
      const wrong = await request('PUT', String(registered.registration_client_uri), String(registered.registration_access_token), { ...update, client_secret: 'wrong' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error, 'invalid_request');

      const answer = await request('PUT', String(registered.registration_client_uri), String(registered.registration_access_token), { ...update, client_secret: registered.client_secret });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.client_name, '杭州自助注册门户（新版）');
      assert.equal(answer.body.city, '330100');
      assert.equal(answer.body.client_secret, undefined);
      assert.notEqual(answer.body.registration_access_token, registered.registration_access_token, 'the registration access token rotates');
      registered = { ...registered, registration_access_token: answer.body.registration_access_token };

      const moved = await request('PUT', String(registered.registration_client_uri), String(registered.registration_access_token), { ...update, city: '320500' });
      assert.equal(moved.status, 400);
      assert.equal(moved.body.error, 'invalid_client_metadata');
      // The secret still works after the update.
      const rp = await relyingParty(federation.issuer, { clientId: String(registered.client_id), clientSecret: String(registered.client_secret), redirectUri });
      await login(new Browser(), rp, 'zhangsan');
    });

    it('an operator can suspend it: its management answers 403 and keeps its token; resume restores', async () => {
      await federation.broker.registry.suspendApp(cliActor(), registered.client_id);
      const suspended = await request('GET', String(registered.registration_client_uri), String(registered.registration_access_token));
      assert.equal(suspended.status, 403);
      assert.equal(suspended.body.error, 'invalid_client');
      await federation.broker.registry.resumeApp(cliActor(), registered.client_id);
      assert.equal((await request('GET', String(registered.registration_client_uri), String(registered.registration_access_token))).status, 200);
    });

    it('deletes itself (RFC 7592), and the trail shows it all', async () => {
      const answer = await request('DELETE', String(registered.registration_client_uri), String(registered.registration_access_token));
      assert.equal(answer.status, 204);
      assert.equal(await federation.broker.registry.records.app(String(registered.client_id), { fresh: true }), undefined);
      const trail = await federation.broker.registry.audit(cliActor(), { city: '330100' });
      const mine = trail.filter((e) => e.target.id === registered.client_id).map((e) => `${e.action}:${e.actor.kind}`).reverse();
      assert.deepEqual(mine, [
        'app.register:dynamic_registration', 'app.update:dynamic_registration',
        'app.suspend:cli', 'app.resume:cli', 'app.remove:dynamic_registration',
      ]);
    });
  });

  it('a city that allows id_number lets its apps register for it; others may not', async () => {
    await federation.broker.registry.addCity(cliActor(), { code: '330482', name: '平湖市', registration_scopes: 'openid profile id_number' });
    const token = (await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330482' })).initial_access_token;
    const answer = await register(token, { client_name: '平湖不动产', redirect_uris: ['https://bdc.pinghu.example.cn/cb'], scope: 'openid id_number' });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.scope, 'openid id_number');
    assert.equal(answer.body.city, '330482');
    const duplicate = await register(token, { client_name: '平湖不动产', redirect_uris: ['https://bdc2.pinghu.example.cn/cb'] });
    assert.equal(duplicate.status, 400);
    assert.equal(duplicate.body.error, 'invalid_client_metadata');
    assert.match(String(duplicate.body.error_description), /already has an app named "平湖不动产"/);
    assert.equal(await appsOf('330482'), 1);
  });

  describe('bad input', () => {
    it('a missing, unknown or expired initial access token: 401 invalid_token', async () => {
      const metadata = { client_name: 'x', redirect_uris: ['https://x.example/cb'] };
      for (const token of [undefined, 'not-a-token', randomBytes(32).toString('base64url')]) {
        const answer = await register(token, metadata);
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error, 'invalid_token');
        assert.match(answer.challenge ?? '', /Bearer/);
      }
      // An expired token: oidc-provider's own record, past its expiry (and the clock tolerance).
      const expired = randomBytes(32).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      await federation.broker.oidcAdapter('InitialAccessToken').upsert(expired, {
        iat: now - 600, exp: now - 60, jti: expired, kind: 'InitialAccessToken', policies: ['member-city'],
      }, 60);
      await federation.broker.registry.records.bindInitialAccessToken(expired, { city: '330100', issued_by: cliActor(), expires_at: new Date((now - 60) * 1000).toISOString() }, 60_000);
      const answer = await register(expired, metadata);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_token');
    });

    it('asks beyond the city policy or the app rules: the standard error, nothing stored', async () => {
      const apps = await appsOf('330100');
      const entries = (await federation.broker.registry.audit(cliActor(), { limit: 1000 })).length;
      const good = { client_name: 'Bad', redirect_uris: ['https://bad.hangzhou.example.cn/cb'] };
      const cases: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ ...good, city: '320500' }, 'invalid_client_metadata', /city is fixed to 330100/],
        [{ ...good, scope: 'openid id_number' }, 'invalid_client_metadata', /id_number not allowed/],
        [{ ...good, first_party: true }, 'invalid_client_metadata', /only an operator/],
        [{ ...good, redirect_uris: ['http://bad.example.cn/cb'] }, 'invalid_redirect_uri', /must use https/],
        [{ ...good, redirect_uris: ['https://bad.example.cn/cb#x'] }, 'invalid_redirect_uri', /fragment/],
        [{ ...good, redirect_uris: ['https://a.example.cn/cb', 'https://b.example.cn/cb'] }, 'invalid_redirect_uri', /one host/],
        [{ ...good, token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', /token_endpoint_auth_method/],
        [{ ...good, grant_types: ['client_credentials'] }, 'invalid_client_metadata', /client_credentials/],
        [{ ...good, post_logout_redirect_uris: ['https://bad.example.cn/*'] }, 'invalid_client_metadata', /wildcard/],
      ];
      for (const [metadata, error, naming] of cases) {
        const answer = await register(hangzhouToken, metadata);
        assert.equal(answer.status, 400, `${JSON.stringify(metadata)}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error, error);
        assert.match(String(answer.body.error_description), naming);
      }
      assert.equal(await appsOf('330100'), apps);
      assert.equal((await federation.broker.registry.audit(cliActor(), { limit: 1000 })).length, entries);
    });
  });
});
