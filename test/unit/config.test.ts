import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { problemsOf } from '../support/config-problems.ts';

describe('configuration', () => {
  it('loads development defaults from an empty environment', () => {
    const config = loadConfig({ env: { TONGBAN_MODE: 'development' } });
    assert.equal(config.mode, 'development');
    assert.equal(config.issuer, 'http://127.0.0.1:3000');
    assert.equal(config.store, 'sqlite:./data/tongban.sqlite');
  });

  it('applies a file, then TONGBAN_* variables over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ issuer: 'http://127.0.0.1:4000', listen: { port: 4000 }, national: { timeoutMs: 2000 } }));
    const config = loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_CONFIG: file, TONGBAN_PORT: '4100', TONGBAN_STORE: 'redis://127.0.0.1:6379' } });
    assert.equal(config.issuer, 'http://127.0.0.1:4000');
    assert.equal(config.listen.port, 4100);
    assert.equal(config.listen.host, '127.0.0.1');
    assert.equal(config.national.timeoutMs, 2000);
    assert.equal(config.national.issuer, 'http://127.0.0.1:3100');
    assert.equal(config.store, 'redis://127.0.0.1:6379');
  });

  it('reports every problem at once, each with its key', () => {
    const problems = problemsOf(() => loadConfig({
      env: { TONGBAN_PORT: 'abc', TONGBAN_STORE: 'mysql://x', TONGBAN_LOG_LEVEL: 'loud', TONGBAN_NATIONAL_TIMEOUT_MS: '5', TONGBAN_TYPO: '1' },
    }));
    for (const key of ['listen.port', 'store', 'logLevel', 'national.timeoutMs', 'TONGBAN_TYPO']) {
      assert.ok(problems.some((p) => p.startsWith(key)), `no problem reported for ${key}: ${problems.join('; ')}`);
    }
  });

  it('refuses production without real keys and with http issuers', () => {
    const problems = problemsOf(() => loadConfig({ env: { TONGBAN_MODE: 'production', TONGBAN_ISSUER: 'http://broker.example' } }));
    for (const key of ['issuer', 'keys.signingKeysFile', 'keys.cookieKeys', 'keys.subjectSecret', 'keys.dataKeys', 'national.issuer', 'national.clientSecret']) {
      assert.ok(problems.some((p) => p.startsWith(key)), `no problem reported for ${key}: ${problems.join('; ')}`);
    }
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig({
      env: {
        TONGBAN_MODE: 'production',
        TONGBAN_ISSUER: 'https://tongban.example.gov.cn',
        TONGBAN_STORE: 'redis://127.0.0.1:6379',
        TONGBAN_SIGNING_KEYS_FILE: '/etc/tongban/jwks.json',
        TONGBAN_COOKIE_KEYS: `${'a'.repeat(32)},${'b'.repeat(32)}`,
        TONGBAN_SUBJECT_SECRET: 's'.repeat(40),
        TONGBAN_DATA_KEY: `d1:${Buffer.alloc(32, 1).toString('base64url')}`,
        TONGBAN_NATIONAL_ISSUER: 'https://zwfw.example.gov.cn',
        TONGBAN_NATIONAL_CLIENT_SECRET: 'x'.repeat(40),
      },
    });
    assert.deepEqual(config.keys.cookieKeys, ['a'.repeat(32), 'b'.repeat(32)]);
  });

  it('refuses client redirect URIs that are not exact https (loopback http only in development)', () => {
    const problems = problemsOf(() => loadConfig({
      env: { TONGBAN_MODE: 'development' },
      overrides: {
        clients: [
          { client_id: 'a', city: '330100', redirect_uris: ['http://portal.example/cb'] },
          { client_id: 'b', city: '990100', redirect_uris: ['https://portal.example/cb#x'] },
          { client_id: 'a', city: '330100', redirect_uris: ['https://*.example/cb'] },
        ],
      },
    }));
    assert.ok(problems.some((p) => p.startsWith('clients[0].redirect_uris')));
    assert.ok(problems.some((p) => p.startsWith('clients[1].city')));
    assert.ok(problems.some((p) => p.startsWith('clients[1].redirect_uris')));
    assert.ok(problems.some((p) => p.startsWith('clients[2].client_id')));
    assert.ok(problems.some((p) => p.startsWith('clients[2].redirect_uris')));
  });

  it('names an unreadable config file', () => {
    const problems = problemsOf(() => loadConfig({ env: { TONGBAN_MODE: 'development' }, file: '/nonexistent/tongban.json' }));
    assert.ok(problems.some((p) => p.startsWith('/nonexistent/tongban.json')));
  });
});
