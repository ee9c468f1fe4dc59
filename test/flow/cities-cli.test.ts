/**
 * The operator CLI (`npm run cities`) as an operator uses it: a separate process on the store of a
 * running broker (SQLite file here). An app registered by the CLI logs in at once through a standard
 * relying party (openid-client), refreshes and logs out; suspend, resume, rotate-secret and remove
 * take effect without a restart; every bad input gets a non-zero exit naming the problem.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { runCities } from '../../scripts/cli/cities.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, login, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Introspection as a relying service calls it, with client_secret_basic. */
async function introspect(rp: RelyingParty, secret: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(rp.config.serverMetadata().introspection_endpoint!, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

async function userinfo(rp: RelyingParty, token: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(rp.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') };
}

/** Polls `check` until it passes: changes made by another process reach a node within a second. */
async function eventually(check: () => Promise<void>, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('cities CLI against a running broker', function () {
  this.timeout(60_000);
  let dir: string;
  let federation: Federation;
  let env: NodeJS.ProcessEnv;

  /** The CLI as a separate process: what an operator runs next to the broker. */
  const spawnCli = (...args: string[]): Promise<Run> => new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/cli/cities.ts', ...args], { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
  /** The same CLI run in this process (its own store connection), to keep the many bad-input cases quick. */
  const cli = async (...args: string[]): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await runCities(args, { env, stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
    return { code, stdout, stderr };
  };
  const cliJson = async (...args: string[]) => {
    const run = await (args[0] === 'register' ? spawnCli : cli)(...args);
    assert.equal(run.code, 0, `${args.join(' ')} failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };
  const auditCount = async () => ((await cliJson('audit', '--limit', '1000', '--json')).entries as unknown[]).length;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tongban-cities-'));
    const store = `sqlite:${join(dir, 'tongban.sqlite')}`;
    federation = await startFederation({ clients: [], store, overrides: { storeNamespace: 'cities' } });
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // The CLI runs in the broker's mode, chosen explicitly like the broker's.
      TONGBAN_MODE: 'development',
      TONGBAN_STORE: store,
      TONGBAN_STORE_NAMESPACE: 'cities',
      TONGBAN_ISSUER: federation.issuer,
    };
  });
  after(async () => {
    await federation?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the seeded reference cities (npm run --silent cities -- list --json) and shows one', async () => {
    const listed = await new Promise<Run>((done) => {
      execFile('npm', ['run', '--silent', 'cities', '--', 'list', '--json'], { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => {
        done({ code: error ? 1 : 0, stdout, stderr });
      });
    });
    assert.equal(listed.code, 0, listed.stderr);
    const cities = (JSON.parse(listed.stdout) as { cities: Array<{ code: string; name: string; province: string }> }).cities;
    assert.equal(cities.length, 27);
    assert.deepEqual(cities.find((c) => c.code === '330300'), { ...cities.find((c) => c.code === '330300'), name: '温州', province: '330000' });
    assert.ok(cities.some((c) => c.code === '341800' && c.name === '宣城'));

    const shown = await spawnCli('show', '330100');
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /330100 杭州 \(province 330000, seed/);
  });

  describe('bad input: a non-zero exit, a message naming the problem, nothing written', () => {
    let entriesBefore: number;
    before(async () => {
      entriesBefore = await auditCount();
    });

    const refused = async (args: string[], code: string, naming: RegExp, exit = 1, run$ = cli) => {
      const run = await run$(...args);
      assert.equal(run.code, exit, `${args.join(' ')} exited ${run.code}: ${run.stdout}`);
      assert.match(run.stderr, new RegExp(`cities: ${code}: `));
      assert.match(run.stderr, naming);
      assert.equal(run.stdout, '');
    };

    it('invalid or unknown division codes', async () => {
      await refused(['add-city', '--code', '33010', '--name', '短'], 'invalid_division_code', /"33010" is not a valid 6-digit/, 1, spawnCli);
      await refused(['add-city', '--code', '990100', '--name', '无效'], 'invalid_division_code', /"990100"/);
      await refused(['add-city', '--code', '330100', '--name', '杭州'], 'city_exists', /city 330100 is already a member/);
      await refused(['show', 'abcdef'], 'invalid_division_code', /"abcdef"/);
      await refused(['show', '320583'], 'city_not_found', /city 320583 is not a member/);
      await refused(['register', '--city', '310118', '--name', 'x', '--redirect-uri', 'https://qp.example/cb'], 'city_not_found', /310118/);
      await refused(['issue-token', '--city', '12'], 'invalid_division_code', /"12"/);
    });

    it('bad redirect URIs, each named', async () => {
      const register = (...uris: string[]) => ['register', '--city', '330100', '--name', 'Bad app', ...uris.flatMap((u) => ['--redirect-uri', u])];
      await refused(register('https://hz.example/cb#frag'), 'invalid_redirect_uri', /"https:\/\/hz.example\/cb#frag" has a fragment/);
      await refused(register('https://*.hz.example/cb'), 'invalid_redirect_uri', /has a wildcard/);
      await refused(register('http://hz.example/cb'), 'invalid_redirect_uri', /must use https/);
      await refused(register('/cb'), 'invalid_redirect_uri', /is not an absolute URL/);
      // OIDC Core 8.1 (issue 12.9): hosts of different organisations need a sector_identifier_uri; the error says so.
      await refused(register('https://a.example/cb', 'https://b.example/cb'), 'invalid_redirect_uri', /OIDC Core 8\.1.*different organisations.*sector_identifier_uri/);
      await refused([...register('https://hz.example/cb'), '--scope', 'openid phone', '--purpose', 'id_number=核验身份'], 'invalid_app_metadata', /purposes\.id_number: the app does not ask for the id_number scope/);
      await refused(['register', '--city', '330100', '--name', 'No URI'], 'invalid_redirect_uri', /at least one redirect URI/);
      await refused([...register('https://hz.example/cb'), '--post-logout-redirect-uri', 'javascript:alert(1)'], 'invalid_redirect_uri', /post_logout_redirect_uris/);
    });

    it('bad policy: unknown scope, auth method, grant; private_key_jwt without keys', async () => {
      const register = ['register', '--city', '330100', '--name', 'Policy app', '--redirect-uri', 'https://hz.example/cb'];
      await refused([...register, '--scope', 'openid everything'], 'invalid_scope', /unknown scope everything/);
      await refused([...register, '--scope', 'profile'], 'invalid_scope', /must include openid/);
      await refused([...register, '--auth-method', 'none'], 'invalid_app_metadata', /token_endpoint_auth_method/);
      await refused([...register, '--grant', 'client_credentials'], 'invalid_app_metadata', /"client_credentials" is not offered/);
      await refused([...register, '--auth-method', 'private_key_jwt'], 'invalid_app_metadata', /private_key_jwt needs exactly one of jwks_uri or jwks/);
    });

    it('unknown client ids, unknown commands and options', async () => {
      for (const command of ['suspend', 'resume', 'rotate-secret', 'remove']) {
        await refused([command, 'no-such-client'], 'app_not_found', /"no-such-client"/);
      }
      await refused(['frobnicate'], 'usage', /unknown command "frobnicate"/, 2, spawnCli);
      await refused(['add-city', '--code', '310118', '--colour', 'red'], 'usage', /--colour/, 2);
      await refused(['suspend'], 'usage', /expected 1 argument/, 2);
    });

    it('left nothing behind', async () => {
      assert.equal(await auditCount(), entriesBefore);
      const shown = await cliJson('show', '330100', '--json');
      assert.deepEqual(shown.apps, []);
    });
  });

  describe('an app registered through the CLI, while the broker runs', () => {
    let app: { client_id: string; client_secret: string };
    let rp: RelyingParty;
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    const redirectUri = 'http://127.0.0.1:9/qingpu/callback';
    const loggedOut = 'http://127.0.0.1:9/qingpu/logged-out';

    before(async () => {
      const city = await cliJson('add-city', '--code', '310118', '--name', '青浦区', '--json');
      assert.equal(city.province, '310000');
    });

    it('logs in at once (no restart), refreshes, reads userinfo and logs out with openid-client', async () => {
      app = await cliJson('register', '--city', '310118', '--name', '青浦一网通办', '--redirect-uri', redirectUri,
        '--post-logout-redirect-uri', loggedOut, '--grant', 'refresh_token', '--scope', 'openid profile offline_access') as typeof app;
      assert.match(app.client_id, /^310118-/);
      assert.equal(typeof app.client_secret, 'string');
      assert.ok(app.client_secret.length >= 43);

      rp = await relyingParty(federation.issuer, { clientId: app.client_id, clientSecret: app.client_secret, redirectUri });
      const browser = new Browser();
      ({ tokens } = await login(browser, rp, 'zhangsan'));
      const claims = tokens.claims()!;
      const idToken = tokens.id_token!;
      assert.equal(claims.aud, app.client_id);
      assert.equal(claims.name, '张三');

      const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.equal(userinfo.sub, claims.sub);
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      assert.ok(refreshed.access_token && refreshed.refresh_token);
      tokens = refreshed;

      const end = oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: loggedOut, state: 'bye' });
      let page: Page = await browser.follow(end, { stopAt: (u) => u.href.startsWith('http://127.0.0.1:9/') });
      for (let step = 0; step < 4 && !page.location && page.status === 200 && /<form/i.test(page.body); step += 1) {
        page = await browser.submitForm(page.body, page.url, { logout: 'yes' }, { stopAt: (u) => u.href.startsWith('http://127.0.0.1:9/') });
      }
      const back = new URL(page.location!);
      assert.equal(back.origin + back.pathname, loggedOut);
      assert.equal(back.searchParams.get('state'), 'bye');
      const silent = await authorizationRequest(rp, { prompt: 'none' });
      const again = await browser.follow(silent.url, { stopAt: stopAtRedirectUri(rp) });
      assert.equal(new URL(again.location!).searchParams.get('error'), 'login_required');
    });

    it('refuses a second app of the same name in the city, writing nothing', async () => {
      const run = await cli('register', '--city', '310118', '--name', '青浦一网通办', '--redirect-uri', 'https://other.qingpu.example.cn/cb');
      assert.equal(run.code, 1);
      assert.match(run.stderr, /cities: app_exists: name: city 310118 already has an app named "青浦一网通办"/);
      const shown = await cliJson('show', '310118', '--json');
      assert.deepEqual((shown.apps as Array<{ client_id: string }>).map((a) => a.client_id), [app.client_id]);
    });

    it('suspend: new logins get a clear error; its tokens fail introspection, userinfo and refresh', async () => {
      const browser = new Browser();
      ({ tokens } = await login(browser, rp, 'zhangsan'));
      assert.equal((await introspect(rp, app.client_secret, tokens.access_token)).body.active, true);

      const run = await spawnCli('suspend', app.client_id);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /is suspended/);

      // The client's own credentials are checked against the store on every request: at once.
      const refused = await introspect(rp, app.client_secret, tokens.access_token);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'invalid_client');
      await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!));
      await eventually(async () => {
        const refusedUserinfo = await userinfo(rp, tokens.access_token);
        assert.equal(refusedUserinfo.status, 401);
        assert.match(refusedUserinfo.challenge ?? '', /invalid_token/);
        const attempt = await authorizationRequest(rp);
        const page = await new Browser().get(attempt.url);
        assert.equal(page.status, 403);
        assert.equal(page.location, undefined, 'no redirect to the app');
        assert.match(page.body, /app_suspended/);
        assert.match(page.body, /该应用已被通办运营方暂停使用/);
      });
    });

    it('resume restores logins and the existing tokens', async () => {
      const run = await spawnCli('resume', app.client_id);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await introspect(rp, app.client_secret, tokens.access_token)).body.active, true);
      await eventually(async () => {
        await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
      });
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      await login(new Browser(), rp, 'wangwu');
    });

    it('rotate-secret: the old secret fails at once, the new one works', async () => {
      const run = await spawnCli('rotate-secret', app.client_id);
      assert.equal(run.code, 0, run.stderr);
      const rotated = JSON.parse(run.stdout) as { client_id: string; client_secret: string };
      assert.equal(rotated.client_id, app.client_id);
      assert.notEqual(rotated.client_secret, app.client_secret);
      assert.equal((await introspect(rp, app.client_secret, tokens.access_token)).body.error, 'invalid_client');
      const renewed = await relyingParty(federation.issuer, { clientId: app.client_id, clientSecret: String(rotated.client_secret), redirectUri });
      assert.equal((await introspect(renewed, rotated.client_secret, tokens.access_token)).body.active, true);
      await login(new Browser(), renewed, 'zhangsan');
      rp = renewed;
      app = { ...app, client_secret: String(rotated.client_secret) };
    });

    it('keeps secrets out of the store file and the audit trail, which records every change', async () => {
      // Read by another process: closing a descriptor of the database file here would drop the
      // SQLite locks the broker in this process holds on it (POSIX advisory locks are per process).
      for (const file of readdirSync(dir)) {
        const found = await new Promise<number>((done) => {
          execFile('grep', ['-a', '-F', '-q', '--', app.client_secret, join(dir, file)], (error) => done(error ? Number(error.code) : 0));
        });
        assert.equal(found, 1, `the client secret is in ${file} (grep exit ${found})`);
      }
      const audit = await cliJson('audit', '--city', '310118', '--json');
      const entries = audit.entries as Array<{ action: string; actor: { kind: string }; target: { id: string }; before?: unknown; after?: unknown }>;
      const actions = entries.map((e) => e.action).reverse();
      assert.deepEqual(actions, ['city.add', 'app.register', 'app.suspend', 'app.resume', 'app.rotate_secret']);
      assert.ok(entries.every((e) => e.actor.kind === 'cli'));
      const suspend = entries.find((e) => e.action === 'app.suspend')!;
      assert.equal((suspend.before as { status: string }).status, 'active');
      assert.equal((suspend.after as { status: string }).status, 'suspended');
      const text = JSON.stringify(audit);
      assert.equal(text.includes(app.client_secret), false);
      assert.equal(text.includes('secret_hash'), false);
      assert.equal(text.includes('scrypt$'), false);
      assert.equal(text.includes('hmac-sha256$'), false);

      const human = await cli('audit', '--limit', '3');
      assert.match(human.stdout, /app\.rotate_secret/);
    });

    it('remove: the app is unknown from then on', async () => {
      const run = await spawnCli('remove', app.client_id);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await introspect(rp, app.client_secret, tokens.access_token)).body.error, 'invalid_client');
      await eventually(async () => {
        const page = await new Browser().get((await authorizationRequest(rp)).url);
        assert.equal(page.status, 400);
        assert.match(page.body, /invalid_client/);
      });
      const shown = await cliJson('show', '310118', '--json');
      assert.deepEqual(shown.apps, []);
    });
  });
});
