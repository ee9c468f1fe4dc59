/**
 * The operator dashboard over plain HTTP, for every bad input: a wrong operator key, an expired
 * dashboard session, a forged form, an operator reaching outside its province: each a clear page
 * or JSON error with nothing changed. And the admin API described: the OpenAPI 3.1 document at
 * /admin/openapi.json names every route of the admin router, and every route it names answers.
 */
import assert from 'node:assert/strict';
import { cliActor, createAdminApi } from '../../broker/members/index.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { startFederation, type Federation } from '../support/federation.ts';

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly cookie: string | undefined;
  readonly location: string | null;
}

describe('operator dashboard (HTTP)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let federationKey: string;
  let zhejiangKey: string;
  let suzhouApp: string;
  let hangzhouApp: string;

  const request = async (method: string, path: string, options: { cookie?: string; form?: Record<string, string>; key?: string } = {}): Promise<Answer> => {
    const response = await fetch(new URL(path, federation.issuer), {
      method, redirect: 'manual',
      headers: {
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(options.form ? { body: new URLSearchParams(options.form).toString() } : {}),
    });
    const setCookie = response.headers.get('set-cookie');
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text(), cookie: setCookie ? setCookie.split(';')[0] : undefined, location: response.headers.get('location') };
  };
  const signIn = async (key: string) => {
    const answer = await request('POST', '/admin/session', { form: { operator_key: key } });
    assert.equal(answer.status, 303);
    assert.ok(answer.cookie);
    const page = await request('GET', '/admin', { cookie: answer.cookie });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(csrf);
    return { cookie: answer.cookie, csrf, page };
  };
  const statusOf = async (clientId: string) => (await federation.broker.registry.records.app(clientId))?.status;

  before(async () => {
    federation = await startFederation({ clients: [] });
    const registry = federation.broker.registry;
    federationKey = (await registry.addOperator(cliActor(), { name: '长三角一网通办运营', role: 'federation' })).api_key;
    zhejiangKey = (await registry.addOperator(cliActor(), { name: '浙江省大数据局', role: 'province', province: '330000' })).api_key;
    suzhouApp = (await registry.registerApp(cliActor(), { city: '320500', name: '苏州办事', redirect_uris: ['http://127.0.0.1:9/suzhou/cb'], first_party: true })).client_id;
    hangzhouApp = (await registry.registerApp(cliActor(), { city: '330100', name: '杭州办事', redirect_uris: ['http://127.0.0.1:9/hangzhou/cb'], first_party: true })).client_id;
  });
  after(async () => federation?.stop());

  it('refuses a wrong operator key with a page (401, counted by the rate limits) and no session', async () => {
    for (const key of ['', 'nonsense', `${federationKey.slice(0, -4)}AAAA`]) {
      const answer = await request('POST', '/admin/session', { form: { operator_key: key } });
      assert.equal(answer.status, 401);
      assert.match(answer.type, /text\/html/);
      assert.match(answer.text, /运营密钥无效或已吊销/);
      assert.equal(answer.cookie, undefined);
    }
    const page = await request('GET', '/admin');
    assert.match(page.text, /id="operator-key"/);
  });

  it('serves its page with a self-only script policy, and Chart.js from the package with a long cache', async () => {
    const { page } = await signIn(federationKey);
    const chart = /<script src="(\/admin\/dashboard\/chart-[^"]+\.umd\.js)"/.exec(page.text)?.[1];
    assert.ok(chart);
    const response = await fetch(new URL(chart, federation.issuer));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('cache-control') ?? '', /max-age=31536000/);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await response.text(), /Chart/);
    assert.doesNotMatch(page.text, /<script>|<style>|https?:\/\/cdn/);
  });

  it('refuses a forged form (no or a wrong token, no session) with nothing changed', async () => {
    const { cookie, csrf } = await signIn(federationKey);
    const forged = await request('POST', `/admin/dashboard/apps/${hangzhouApp}/suspend`, { cookie, form: { csrf: `${csrf.slice(0, -2)}xx` } });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /表单校验失败/);
    assert.equal((await request('POST', `/admin/dashboard/apps/${hangzhouApp}/suspend`, { cookie, form: {} })).status, 403);
    const noSession = await request('POST', `/admin/dashboard/apps/${hangzhouApp}/suspend`, { form: { csrf } });
    assert.equal(noSession.status, 401);
    assert.equal(await statusOf(hangzhouApp), 'active');
    const done = await request('POST', `/admin/dashboard/apps/${hangzhouApp}/suspend`, { cookie, form: { csrf } });
    assert.equal(done.status, 200);
    assert.equal(await statusOf(hangzhouApp), 'suspended');
    assert.equal((await request('POST', `/admin/dashboard/apps/${hangzhouApp}/resume`, { cookie, form: { csrf } })).status, 200);
    assert.equal(await statusOf(hangzhouApp), 'active');
  });

  it('treats an expired dashboard session as none: a sign-in page, a 401, nothing changed', async () => {
    const { cookie, csrf } = await signIn(federationKey);
    const key = `dashboard:session:${cookie.split('=')[1]}`;
    const session = await federation.store.get<{ expiresAt: number }>(key);
    assert.ok(session);
    await federation.store.set(key, { ...session, expiresAt: Date.now() - 1 }, 60_000);
    const page = await request('GET', '/admin', { cookie });
    assert.match(page.text, /看板会话已过期/);
    const action = await request('POST', `/admin/dashboard/apps/${hangzhouApp}/suspend`, { cookie, form: { csrf } });
    assert.equal(action.status, 401);
    assert.equal(await statusOf(hangzhouApp), 'active');
    const counts = await request('GET', '/admin/dashboard/counts.json', { cookie });
    assert.equal(counts.status, 401);
    assert.equal(JSON.parse(counts.text).error, 'login_required');
  });

  it('keeps a province operator inside its province: pages, counts and actions', async () => {
    const { cookie, csrf, page } = await signIn(zhejiangKey);
    assert.match(page.text, new RegExp(hangzhouApp));
    assert.doesNotMatch(page.text, new RegExp(suzhouApp));
    const outside = await request('POST', `/admin/dashboard/apps/${suzhouApp}/suspend`, { cookie, form: { csrf } });
    assert.equal(outside.status, 403);
    assert.match(outside.text, /操作被拒绝/);
    assert.equal(await statusOf(suzhouApp), 'active');
    await federation.broker.store.increment(`dashboard:logins:h:${Math.floor(Date.now() / 3_600_000) * 3_600_000}`, '320000|320500|success', 2, 60_000);
    const counts = JSON.parse((await request('GET', '/admin/dashboard/counts.json?window=day', { cookie })).text) as { provinces: Record<string, unknown> };
    assert.equal(counts.provinces['320000'], undefined);
  });

  it('counts failure reasons per province and per city for the charts, zh-CN first with English beside it', async () => {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await federation.broker.store.increment(`dashboard:logins:h:${hour}`, '330000|330100|access_denied', 3, 60_000);
    await federation.broker.store.increment(`dashboard:logins:h:${hour}`, '330000|330400|login_required', 1, 60_000);
    const { cookie, page } = await signIn(federationKey);
    assert.match(page.text, /<html lang="zh-CN">/);
    assert.match(page.text, /lang="en">Operator key|lang="en">[A-Z]/);
    const counts = JSON.parse((await request('GET', '/admin/dashboard/counts.json?window=day', { cookie })).text) as {
      reasons: Record<string, number>; provinces: Record<string, { failure: number }>; cities: Record<string, { failure: number }>; failures: number[];
    };
    assert.ok((counts.reasons.access_denied ?? 0) >= 3 && (counts.reasons.login_required ?? 0) >= 1, JSON.stringify(counts.reasons));
    assert.ok((counts.cities['330100']?.failure ?? 0) >= 3);
    assert.ok((counts.cities['330400']?.failure ?? 0) >= 1);
    assert.ok((counts.provinces['330000']?.failure ?? 0) >= 4);
    assert.ok((counts.failures.at(-1) ?? 0) >= 4, 'the current hour carries them');
  });

  it('refuses a province operator a secret rotation outside its province, and rotates inside it (the new secret shown once)', async () => {
    const { cookie, csrf } = await signIn(zhejiangKey);
    const suzhouBefore = (await federation.broker.registry.records.app(suzhouApp))?.secret_hash;
    const outside = await request('POST', `/admin/dashboard/apps/${suzhouApp}/rotate-secret`, { cookie, form: { csrf } });
    assert.equal(outside.status, 403);
    assert.doesNotMatch(outside.text, /id="new-secret"/);
    assert.equal((await federation.broker.registry.records.app(suzhouApp))?.secret_hash, suzhouBefore, 'nothing changed');
    const before = (await federation.broker.registry.records.app(hangzhouApp))?.secret_hash;
    const rotated = await request('POST', `/admin/dashboard/apps/${hangzhouApp}/rotate-secret`, { cookie, form: { csrf } });
    assert.equal(rotated.status, 200);
    const secret = /id="new-secret">([^<]+)</.exec(rotated.text)?.[1];
    assert.ok(secret && secret.length >= 32, 'the new secret is on the answer page');
    assert.notEqual((await federation.broker.registry.records.app(hangzhouApp))?.secret_hash, before);
    assert.ok(!(await request('GET', '/admin', { cookie })).text.includes(secret), 'and on no other page');
  });

  it('shows the audit trail with its verification status and the logout queue; a province operator sees only its own entries', async () => {
    const { page } = await signIn(federationKey);
    assert.match(page.text, /id="audit-status" data-status="verified"/);
    assert.match(page.text, /id="logout-queue"/);
    const audit = page.text.slice(page.text.indexOf('<table id="audit">'));
    assert.match(audit, new RegExp(`app ${hangzhouApp}`), 'the suspensions above are in the trail');
    assert.match(audit, new RegExp(`app ${suzhouApp}`));
    const province = (await signIn(zhejiangKey)).page.text;
    const provinceAudit = province.slice(province.indexOf('<table id="audit">'));
    assert.match(provinceAudit, new RegExp(`app ${hangzhouApp}`));
    assert.doesNotMatch(provinceAudit, /320500|320000/);
  });

  describe('the admin API described (OpenAPI 3.1)', () => {
    type Document = { openapi: string; paths: Record<string, Record<string, unknown>> };
    const documented = async () => {
      const response = await fetch(new URL('/admin/openapi.json', federation.issuer));
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      return await response.json() as Document;
    };
    const methods = ['get', 'post', 'put', 'patch', 'delete'];
    const operationsOf = (document: Document) => Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((key) => methods.includes(key)).map((method) => `${method.toUpperCase()} ${path}`)).sort();

    it('documents every route of the admin router, and nothing else', async () => {
      const document = await documented();
      assert.equal(document.openapi, '3.1.0');
      const { router } = createAdminApi({ service: federation.broker.registry, logger: createMemoryLogger('error') });
      const routed = router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD')
        .map((method) => `${method} ${String(layer.path).replace(/^\/admin/, '').replace(/:(\w+)/g, '{$1}')}`)).sort();
      assert.ok(routed.length >= 15, routed.join(', '));
      assert.deepEqual(operationsOf(document), routed);
    });

    it('answers every documented route (no "no such operation")', async () => {
      const document = await documented();
      const fill = (path: string) => path.replace('{code}', '330100').replace('{clientId}', 'no-such-app').replace('{id}', '000000000000');
      for (const operation of operationsOf(document)) {
        const [method = 'GET', path = '/'] = operation.split(' ');
        const response = await fetch(new URL(`/admin${fill(path)}`, federation.issuer), {
          method, headers: { authorization: `Bearer ${federationKey}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        const body = await response.json() as { error?: string };
        assert.notEqual(response.status, 405, operation);
        assert.notEqual(body.error, 'not_found', `${operation}: ${JSON.stringify(body)}`);
      }
    });
  });
});
