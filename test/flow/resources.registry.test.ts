/**
 * The resource-server registry behind those flows: validation of a registration and of the
 * configuration list, the records in the store with their audit, and the operator CLI's
 * `resource` commands.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredResourceServersProblems, createResourceServerRecords, resourceServerProblems } from '../../broker/resources/records.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { runCities } from '../../scripts/cli/cities.ts';

describe('resource server registry', () => {
  it('reports every problem of a registration at once', () => {
    const problems = resourceServerProblems({
      identifier: 'http://api.example.gov.cn/x?y=1#z', city: '33', scopes: ['openid', 'bad scope'], clients: [''],
      accessTokenFormat: 'paseto', accessTokenTtl: 0, serviceClientSecret: 'short', routes: [{ target: 'nope', scopes: [] }],
    });
    for (const key of ['identifier: must be https', 'identifier: must not contain a fragment', 'identifier: must not contain a query', 'city', 'scopes: "openid"', 'scopes: "bad scope"', 'clients', 'accessTokenFormat', 'accessTokenTtl', 'serviceClientSecret', 'routes[0].target', 'routes[0].scopes']) {
      assert.ok(problems.some((p) => p.startsWith(key)), `no problem reported for ${key}: ${problems.join('; ')}`);
    }
    assert.deepEqual(resourceServerProblems({ identifier: 'https://api.example.gov.cn/gjj', city: '310000', scopes: ['gjj:read'] }), []);
    assert.ok(resourceServerProblems({ identifier: 'http://127.0.0.1:4000/api', city: '310000', scopes: ['gjj:read'] }).length > 0);
    assert.deepEqual(resourceServerProblems({ identifier: 'http://127.0.0.1:4000/api', city: '310000', scopes: ['gjj:read'] }, { allowLoopbackHttp: true }), []);
  });

  it('validates the configuration list, duplicates included', () => {
    const entry = { identifier: 'https://api.example.gov.cn/gjj', city: '310000', scopes: ['gjj:read'] };
    const problems = configuredResourceServersProblems([entry, entry, { identifier: 'http://127.0.0.1:1/x', city: '310000', scopes: ['a'] }], 'production');
    assert.ok(problems.some((p) => p.startsWith('resources[1].identifier: duplicate')));
    assert.ok(problems.some((p) => p.startsWith('resources[1].serviceClientId: duplicate')));
    assert.ok(problems.some((p) => p.startsWith('resources[2].identifier')));
    assert.deepEqual(configuredResourceServersProblems('x', 'development'), ['resources: must be a list']);
  });

  it('refuses a configuration file with a bad resources list, naming each key', () => {
    assert.throws(() => loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { resources: [{ identifier: 'https://api.example.gov.cn/x', city: '999', scopes: [] }] } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.problems.some((p) => p.startsWith('resources[0].city')));
      assert.ok(error.problems.some((p) => p.startsWith('resources[0].scopes')));
      return true;
    });
    assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { resources: [{ identifier: 'http://127.0.0.1:3300/api', city: '310000', scopes: ['gjj:read'] }] } }).resources?.length, 1);
  });

  it('registers, lists, updates routes, refuses a taken service client id, and audits each change', async () => {
    const store = createMemoryStore();
    const registry = createResourceServerRecords({ store });
    const a = await registry.register({ identifier: 'https://a.example.gov.cn/api', city: '330400', scopes: ['gjj:read'] }, { actor: 'op' });
    assert.equal(a.record.accessTokenFormat, 'jwt');
    assert.equal(a.record.accessTokenTtl, 300);
    await registry.register({ identifier: 'https://b.example.gov.cn/api', city: '310000', scopes: ['gjj:read'], serviceClientId: 'b-api', serviceClientSecret: 'b'.repeat(32) }, { actor: 'op' });
    assert.deepEqual((await registry.list()).map((r) => r.identifier), ['https://a.example.gov.cn/api', 'https://b.example.gov.cn/api']);
    assert.equal((await registry.byServiceClient('b-api'))?.identifier, 'https://b.example.gov.cn/api');
    await assert.rejects(registry.register({ identifier: 'https://c.example.gov.cn/api', city: '310000', scopes: ['x'], serviceClientId: 'b-api' }, { actor: 'op' }),
      (error: { code?: string }) => error.code === 'resource_conflict');
    const routed = await registry.addRoute('https://a.example.gov.cn/api', { target: 'https://b.example.gov.cn/api', scopes: ['gjj:read'] }, { actor: 'op' });
    assert.deepEqual(routed.routes, [{ target: 'https://b.example.gov.cn/api', scopes: ['gjj:read'] }]);
    await assert.rejects(registry.addRoute('https://a.example.gov.cn/api', { target: 'https://a.example.gov.cn/api', scopes: ['gjj:read'] }, { actor: 'op' }),
      (error: { code?: string }) => error.code === 'resource_invalid');
    await registry.removeRoute('https://a.example.gov.cn/api', 'https://b.example.gov.cn/api', { actor: 'op' });
    await assert.rejects(registry.removeRoute('https://a.example.gov.cn/api', 'https://b.example.gov.cn/api', { actor: 'op' }), (error: { code?: string }) => error.code === 'resource_not_found');
    await assert.rejects(registry.remove('https://nope.example.gov.cn/api', { actor: 'op' }), (error: { code?: string }) => error.code === 'resource_not_found');
    await assert.rejects(registry.register({ identifier: 'ftp://x', city: '1', scopes: [] }, { actor: 'op' }), (error: { code?: string; status?: number }) => error.code === 'resource_invalid' && error.status === 400);
    // Re-applying an unchanged configuration writes nothing new.
    const before = (await registry.audit.recent(100)).length;
    await registry.applyConfigured([{ identifier: 'https://b.example.gov.cn/api', city: '310000', scopes: ['gjj:read'], serviceClientId: 'b-api', serviceClientSecret: 'b'.repeat(32) }]);
    await registry.applyConfigured([{ identifier: 'https://b.example.gov.cn/api', city: '310000', scopes: ['gjj:read'], serviceClientId: 'b-api', serviceClientSecret: 'b'.repeat(32) }]);
    const entries = await registry.audit.recent(100);
    assert.equal(entries.length, before + 1, 'the first apply changes the source, the second nothing');
    assert.equal(entries[0]!.event, 'resource.updated');
    assert.equal(entries[0]!.actor, 'config');
    const text = JSON.stringify(entries);
    assert.ok(!text.includes('b'.repeat(32)), 'no secret in the audit trail');
    await store.close();
  });
});

describe('resource commands of the operator CLI (npm run cities -- resource ...)', function () {
  this.timeout(20_000);
  const dir = mkdtempSync(join(tmpdir(), 'tongban-resources-'));
  const env = { TONGBAN_MODE: 'development', TONGBAN_STORE: `sqlite:${join(dir, 'store.sqlite')}`, TONGBAN_STORE_NAMESPACE: 'resources' };
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runCities(args, { env, stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  }

  it('registers an API, shows the secret once, adds a route, lists, rotates, audits and removes', async () => {
    const registered = await cli('resource', 'register', '--identifier', 'https://gjj.jiaxing.example.gov.cn/api', '--city', '330400', '--name', '嘉兴公积金',
      '--scope', 'gjj:read gjj:loan', '--client', 'jiaxing-portal', '--format', 'opaque');
    assert.equal(registered.code, 0, registered.stderr);
    const record = JSON.parse(registered.stdout) as Record<string, unknown>;
    assert.equal(record.serviceClientId, 'rs-gjj.jiaxing.example.gov.cn-api');
    assert.equal(typeof record.service_client_secret, 'string');
    assert.equal(record.accessTokenFormat, 'opaque');

    // An update keeps what it does not name, and shows no secret.
    const updated = await cli('resource', 'register', '--identifier', 'https://gjj.jiaxing.example.gov.cn/api', '--client', 'jiaxing-portal', '--client', 'hangzhou-portal');
    assert.equal(updated.code, 0, updated.stderr);
    const after = JSON.parse(updated.stdout) as Record<string, unknown>;
    assert.deepEqual(after.clients, ['jiaxing-portal', 'hangzhou-portal']);
    assert.deepEqual(after.scopes, ['gjj:read', 'gjj:loan']);
    assert.equal(after.service_client_secret, undefined);

    assert.equal((await cli('resource', 'route', 'add', 'https://gjj.jiaxing.example.gov.cn/api', '--to', 'https://gjj.shanghai.example.gov.cn/api', '--scope', 'gjj:read')).code, 0);
    const listed = await cli('resource', 'list');
    assert.match(listed.stdout, /may call https:\/\/gjj\.shanghai\.example\.gov\.cn\/api for gjj:read/);
    const rotated = JSON.parse((await cli('resource', 'rotate-secret', 'https://gjj.jiaxing.example.gov.cn/api')).stdout) as Record<string, unknown>;
    assert.ok(typeof rotated.service_client_secret === 'string' && rotated.service_client_secret !== record.service_client_secret);
    const audit = await cli('resource', 'audit', '--json');
    const events = (JSON.parse(audit.stdout) as { entries: Array<{ event: string; actor: string }> }).entries.map((e) => e.event);
    assert.deepEqual(events, ['resource.secret_rotated', 'resource.route_added', 'resource.updated', 'resource.registered']);
    assert.ok(!audit.stdout.includes(String(record.service_client_secret)), 'no secret in the audit trail');
    assert.equal((await cli('resource', 'remove', 'https://gjj.jiaxing.example.gov.cn/api')).code, 0);
    assert.equal((await cli('resource', 'list', '--json')).stdout.includes('jiaxing'), false);
  });

  it('refuses bad input with a stable code and exit status', async () => {
    const invalid = await cli('resource', 'register', '--identifier', 'http://api.example.gov.cn/x#y', '--city', '33', '--scope', 'openid', '--json');
    assert.equal(invalid.code, 1);
    // stderr opens with the line naming the configuration used; the error object is the last line.
    const lastLine = (text: string) => text.trim().split('\n').at(-1)!;
    assert.match(invalid.stderr, /config/);
    assert.equal((JSON.parse(lastLine(invalid.stderr)) as { error: string }).error, 'resource_invalid');
    const missing = await cli('resource', 'show', 'https://nope.example.gov.cn/api', '--json');
    assert.equal((JSON.parse(lastLine(missing.stderr)) as { error: string }).error, 'resource_not_found');
    assert.equal((await cli('resource', 'frobnicate')).code, 2);
    assert.equal((await cli('resource', 'route', 'add', 'https://a.example.gov.cn/api')).code, 2);
  });
});
