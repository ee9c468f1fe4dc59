/**
 * Registration credentials (issue 12, item 8) over real HTTP: an initial access token limited to N
 * registrations (`--uses N`), listed and revoked by id with the cities CLI (never shown again
 * itself), and a registration access token that rotates on each use, the old one refused after.
 *
 * Attack inputs: 2 registrations past a token's uses, 1 with a revoked token, 2 reuses of a
 * rotated registration access token, 3 malformed `--uses` / token ids.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliActor } from '../../broker/members/index.ts';
import { runCities } from '../../scripts/cli/cities.ts';
import { startFederation, type Federation } from '../support/federation.ts';

describe('registration credentials', function () {
  this.timeout(30_000);
  let federation: Federation;
  let dir: string;
  let env: Record<string, string | undefined>;
  let count = 0;

  const request = async (method: string, url: string, token: string | undefined, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
  };
  const app = () => ({ client_name: `自助注册 ${(count += 1)}`, redirect_uris: ['http://127.0.0.1:9/creds/cb'], scope: 'openid profile' });
  const register = (token: string) => request('POST', `${federation.issuer}/reg`, token, app());
  const cli = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCities(args, { env, stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  };
  const cliJson = async (...args: string[]) => {
    const run = await cli(...args);
    assert.equal(run.code, 0, `${args.join(' ')} failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tongban-creds-'));
    const store = `sqlite:${join(dir, 'tongban.sqlite')}`;
    federation = await startFederation({ clients: [], store, overrides: { storeNamespace: 'creds' } });
    env = { PATH: process.env.PATH, HOME: process.env.HOME, TONGBAN_MODE: 'development', TONGBAN_STORE: store, TONGBAN_STORE_NAMESPACE: 'creds', TONGBAN_ISSUER: federation.issuer };
  });
  after(async () => {
    await federation?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a single-use token (--uses 1) registers one app; the second registration is refused', async () => {
    const issued = await cliJson('issue-token', '--city', '330100', '--uses', '1');
    assert.equal(issued.uses, 1);
    assert.match(String(issued.id), /^[\w-]{16}$/);
    const token = String(issued.initial_access_token);
    assert.equal((await register(token)).status, 201);
    const again = await register(token);
    assert.equal(again.status, 401);
    assert.equal(again.body.error, 'invalid_token');
    assert.equal((await federation.broker.registry.showCity(cliActor(), '330100')).apps.filter((a) => a.name.startsWith('自助注册')).length, 1, 'nothing stored for the refused one');
  });

  it('a token for N registrations allows exactly N, even when they race', async () => {
    const { initial_access_token: token } = await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330100', uses: 2 });
    const answers = await Promise.all([register(token), register(token), register(token)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 201, 401]);
  });

  it('token list shows ids, cities and uses, never a token; token revoke stops a token at once', async () => {
    const issued = await cliJson('issue-token', '--city', '320500');
    const token = String(issued.initial_access_token);
    const listed = await cliJson('token', 'list', '--json');
    const entries = listed.tokens as Array<{ id: string; city: string; used: number; uses?: number; revoked_at?: string }>;
    assert.ok(entries.some((t) => t.id === issued.id && t.city === '320500' && t.used === 0 && t.uses === undefined));
    assert.ok(entries.some((t) => t.uses === 1 && t.used === 1), 'the single-use token shows as used');
    assert.equal(JSON.stringify(listed).includes(token), false);
    const human = await cli('token', 'list');
    assert.match(human.stdout, new RegExp(String(issued.id)));

    const revoked = await cliJson('token', 'revoke', String(issued.id), '--json');
    assert.ok(revoked.revoked_at);
    const refused = await register(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_token');
    const audit = await cliJson('audit', '--limit', '5', '--json');
    assert.ok((audit.entries as Array<{ action: string }>).some((e) => e.action === 'initial_access_token.revoke'));
  });

  it('refuses malformed --uses and unknown token ids with a usage error', async () => {
    assert.notEqual((await cli('issue-token', '--city', '330100', '--uses', '0')).code, 0);
    assert.notEqual((await cli('issue-token', '--city', '330100', '--uses', 'many')).code, 0);
    assert.notEqual((await cli('token', 'revoke', 'no-such-token-id')).code, 0);
  });

  it('a registration access token rotates on each update; the old one is refused after', async () => {
    const { initial_access_token: token } = await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330100', uses: 1 });
    const registered = (await register(token)).body;
    const uri = String(registered.registration_client_uri);
    const first = String(registered.registration_access_token);
    const updated = await request('PUT', uri, first, {
      client_id: registered.client_id, client_secret: registered.client_secret, client_name: String(registered.client_name), redirect_uris: registered.redirect_uris, scope: 'openid profile',
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const second = String(updated.body.registration_access_token);
    assert.notEqual(second, first);
    assert.equal((await request('GET', uri, first)).status, 401, 'the rotated token is dead');
    assert.equal((await request('PUT', uri, first, { client_id: registered.client_id })).status, 401);
    assert.equal((await request('GET', uri, second)).status, 200);
  });
});
