/**
 * Fail closed (issue 12, item 6): development mode is never a default, and a configuration that
 * looks deployed (https issuer, listener off loopback, store off this machine) starts only with
 * real keys, whatever the mode. The CLIs load the same way, and a development broker says so on
 * every page and in /readyz.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.ts';
import { isLocalStore } from '../../config/rules/mode.ts';
import { runCities } from '../../scripts/cli/cities.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createBroker } from '../../broker/broker.ts';
import { freePort } from '../support/federation.ts';
import { problemsOf } from '../support/config-problems.ts';

const realKeys = {
  TONGBAN_SIGNING_KEYS_FILE: '/etc/tongban/jwks.json',
  TONGBAN_COOKIE_KEYS: 'c'.repeat(32),
  TONGBAN_SUBJECT_SECRET: 's'.repeat(32),
  TONGBAN_DATA_KEY: `d1:${Buffer.alloc(32, 1).toString('base64url')}`,
};
const keyVariables = ['TONGBAN_SIGNING_KEYS_FILE', 'TONGBAN_COOKIE_KEYS', 'TONGBAN_SUBJECT_SECRET', 'TONGBAN_DATA_KEY'];

describe('fail closed: development mode is chosen, never assumed', () => {
  it('refuses to start when no mode is chosen, saying how to choose (3 inputs)', () => {
    for (const env of [{}, { TONGBAN_MODE: '' }, { TONGBAN_PORT: '3000' }]) {
      const problems = problemsOf(() => loadConfig({ env }));
      assert.ok(problems.some((p) => p.startsWith('mode:') && p.includes('TONGBAN_MODE=development') && p.includes('TONGBAN_MODE=production')), problems.join('; '));
    }
    assert.ok(problemsOf(() => loadConfig({ env: { TONGBAN_MODE: 'staging' } })).some((p) => p.startsWith('mode:')));
  });

  it('takes the mode from the environment, the config file or the caller', () => {
    assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development' } }).mode, 'development');
    assert.equal(loadConfig({ env: {}, overrides: { mode: 'development' } }).mode, 'development');
    // npm start's demo configuration chooses development itself.
    assert.equal(loadConfig({ env: {}, file: fileURLToPath(new URL('../../config/demo.json', import.meta.url)) }).mode, 'development');
  });

  const exposed: Array<[string, Record<string, string>]> = [
    ['an https issuer', { TONGBAN_ISSUER: 'https://tongban.example.gov.cn' }],
    ['a listener on every address', { TONGBAN_HOST: '0.0.0.0' }],
    ['a listener on a public address', { TONGBAN_HOST: '203.0.113.5' }],
    ['a listener on IPv6 any', { TONGBAN_HOST: '::' }],
    ['Redis on another host', { TONGBAN_STORE: 'redis://10.0.0.5:6379' }],
    ['Redis with TLS on another host', { TONGBAN_STORE: 'rediss://cache.example.gov.cn:6380' }],
    ['PostgreSQL on another host', { TONGBAN_STORE: 'postgres://tongban@db.example.gov.cn/tongban' }],
    ['a Redis Cluster with one remote node', { TONGBAN_STORE: 'redis+cluster://127.0.0.1:7000,10.0.0.6:7000' }],
    ['a host that only starts like loopback', { TONGBAN_STORE: 'redis://127.0.0.1.attacker.example:6379' }],
  ];
  for (const [label, env] of exposed) {
    it(`development mode with ${label} and generated keys is a start-up error naming what to set`, () => {
      const problems = problemsOf(() => loadConfig({ env: { TONGBAN_MODE: 'development', ...env } }));
      for (const variable of keyVariables) {
        assert.ok(problems.some((p) => p.startsWith('keys.') && p.includes(`set ${variable}`)), `${variable} not named: ${problems.join('; ')}`);
      }
      // With real keys the same configuration loads (the operator chose to run it so).
      assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development', ...env, ...realKeys } }).mode, 'development');
    });
  }

  it('accepts development mode on this machine only: loopback listener and issuer, local stores', () => {
    for (const store of ['memory:', 'sqlite:./data/x.sqlite', 'redis://127.0.0.1:6379', 'redis://localhost:6379/2', 'postgres://postgres@127.0.0.1:5432/test',
      'postgresql://[::1]/test', 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001']) {
      assert.ok(isLocalStore(store), store);
      assert.equal(loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_STORE: store, TONGBAN_HOST: '::1' } }).store, store);
    }
  });

  it('the cities CLI runs in the broker\'s mode: it refuses to start without one', async () => {
    let stderr = '';
    const code = await runCities(['list'], { env: { TONGBAN_STORE: 'memory:' }, stdout: () => undefined, stderr: (t) => { stderr += t; } });
    assert.equal(code, 2);
    assert.match(stderr, /config_invalid/);
    assert.match(stderr, /TONGBAN_MODE=development/);
  });

  it('the broker, keys and audit programs refuse to start without a mode too, saying how to choose (3 programs)', async function () {
    this.timeout(60_000);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TONGBAN_STORE: 'memory:' };
    for (const [program, args] of [['broker.ts', []], ['keys.ts', ['list']], ['audit.ts', ['verify']]] as const) {
      const script = fileURLToPath(new URL(`../../scripts/cli/${program}`, import.meta.url));
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', script, ...args], { env, timeout: 20_000 }, (error, _stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ code: error ? Number(error.code) : 0, stderr });
        });
      });
      assert.equal(run.code, 2, `${program} exits 2: ${run.stderr}`);
      assert.match(run.stderr, /TONGBAN_MODE=development/, program);
    }
  });

  it('a development broker says so on every page and in /readyz', async function () {
    this.timeout(20_000);
    const port = await freePort();
    const broker = await createBroker(loadConfig({
      env: { TONGBAN_MODE: 'development' },
      overrides: { issuer: `http://127.0.0.1:${port}`, listen: { host: '127.0.0.1', port }, metrics: { listen: { host: '127.0.0.1', port: 0 } }, store: 'memory:' },
    }), { logger: createMemoryLogger('error') });
    try {
      await broker.start();
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as Record<string, string>;
      assert.equal(ready.mode, 'development');
      // A page of the broker's (an error page) and one of oidc-provider's own (a bad authorization request).
      for (const path of ['/interaction/no-such-interaction', '/auth?client_id=nobody&response_type=code']) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' });
        const body = await response.text();
        assert.match(response.headers.get('content-type') ?? '', /html/, path);
        assert.match(body, /<body[^>]*><div class="development-mode"[^>]*>开发模式/, path);
      }
    } finally {
      await broker.stop();
    }
  });
});
