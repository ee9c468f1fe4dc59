/**
 * Transport rules (broker/platform/http/transport.ts): `X-Forwarded-*` believed only from the
 * configured proxies, HSTS on https issuers; at the middleware and through a whole broker.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { loadConfig, ConfigError } from '../../config/load.ts';
import { createProxyMatcher, hstsValue, strictTransport, trustForwardingFrom } from '../../broker/platform/http/transport.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { freePort } from '../support/federation.ts';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';

/** Real keys, which an https issuer needs even in development mode (config/rules/mode.ts). */
async function realKeys() {
  const file = join(mkdtempSync(join(tmpdir(), 'tongban-transport-')), 'signing-keys.json');
  const keys = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `transport-${alg.toLowerCase()}` });
  }
  writeFileSync(file, JSON.stringify({ keys }));
  return { signingKeysFile: file, cookieKeys: ['c'.repeat(32)], subjectSecret: 's'.repeat(32), dataKeys: [`d1:${Buffer.alloc(32, 1).toString('base64url')}`] };
}

interface Seen { ip: string; protocol: string; host: string }

async function serve(trusted: readonly string[], issuer = 'http://127.0.0.1'): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.proxy = true;
  app.use(trustForwardingFrom(trusted));
  app.use(strictTransport(issuer));
  app.use((ctx) => {
    if (ctx.path === '/fail') ctx.throw(400, 'bad');
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol, host: ctx.host } satisfies Seen;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const forged = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example.cn' };

describe('transport', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  async function seen(trusted: readonly string[], headers: Record<string, string>): Promise<Seen> {
    const { url, server } = await serve(trusted);
    servers.push(server);
    return await (await fetch(url, { headers })).json() as Seen;
  }

  it('ignores X-Forwarded-* from a peer that is not a configured proxy', async () => {
    for (const trusted of [[], ['10.0.0.0/8'], ['192.168.1.1', '::2']]) {
      const s = await seen(trusted, forged);
      assert.equal(s.ip, '127.0.0.1', `trusted ${trusted.join(',')}`);
      assert.equal(s.protocol, 'http');
      assert.notEqual(s.host, 'evil.example.cn');
    }
  });

  it('believes a configured proxy (address or range, IPv4-mapped peers too)', async () => {
    for (const trusted of [['127.0.0.1'], ['127.0.0.0/8'], ['::ffff:127.0.0.1']]) {
      const s = await seen(trusted, forged);
      assert.deepEqual(s, { ip: '203.0.113.9', protocol: 'https', host: 'evil.example.cn' }, `trusted ${trusted.join(',')}`);
    }
  });

  it('takes the right-most untrusted X-Forwarded-For hop: a client cannot prepend its own', async () => {
    assert.equal((await seen(['127.0.0.1', '10.0.0.0/8'], { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.1.1.1' })).ip, '198.51.100.7');
    assert.equal((await seen(['127.0.0.1'], { 'x-forwarded-for': 'not-an-ip' })).ip, '127.0.0.1');
  });

  it('matches proxies by address class', () => {
    const isTrusted = createProxyMatcher(['10.0.0.0/8', '2001:db8::/32']);
    assert.equal(isTrusted('::ffff:10.2.3.4'), true);
    assert.equal(isTrusted('2001:db8::5'), true);
    assert.equal(isTrusted('11.0.0.1'), false);
    assert.equal(isTrusted(undefined), false);
    assert.equal(createProxyMatcher([])('127.0.0.1'), false);
  });

  it('sends HSTS on https issuers only, error responses included', async () => {
    const secure = await serve([], 'https://tongban.example.cn');
    const plain = await serve([], 'http://127.0.0.1:3000');
    servers.push(secure.server, plain.server);
    assert.equal((await fetch(secure.url)).headers.get('strict-transport-security'), hstsValue);
    assert.equal((await fetch(`${secure.url}/fail`)).headers.get('strict-transport-security'), hstsValue);
    assert.equal((await fetch(plain.url)).headers.get('strict-transport-security'), null);
  });

  it('validates proxy.trusted with its key', () => {
    assert.deepEqual(loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_PROXY_TRUSTED: '10.0.0.1,192.168.0.0/16' } }).proxy?.trusted, ['10.0.0.1', '192.168.0.0/16']);
    assert.throws(() => loadConfig({ env: { TONGBAN_MODE: 'development', TONGBAN_PROXY_TRUSTED: '10.0.0.1,proxy.local' } }), (e: unknown) => e instanceof ConfigError && /proxy\.trusted\[1\]/.test(e.message));
  });

  describe('through a broker', () => {
    let broker: Broker | undefined;
    afterEach(async () => broker?.stop());

    async function brokerSees(trusted: readonly string[], issuer?: string): Promise<{ seen: Seen; hsts: string | null }> {
      const port = await freePort();
      const config = loadConfig({
        env: { TONGBAN_MODE: 'development' },
        overrides: {
          issuer: issuer ?? `http://127.0.0.1:${port}`,
          listen: { host: '127.0.0.1', port },
          metrics: { listen: { host: '127.0.0.1', port: 0 } },
          store: 'memory:',
          storeNamespace: `t${Math.random().toString(36).slice(2, 10)}`,
          proxy: { trusted: [...trusted] },
          ...(issuer?.startsWith('https://') ? { keys: await realKeys() } : {}),
        },
      });
      broker = await createBroker(config, { logger: createMemoryLogger('warn') });
      // A probe after every broker route: what the broker believes about the request.
      broker.provider.use((ctx) => {
        if (ctx.path === '/transport-probe') ctx.body = { ip: ctx.ip, protocol: ctx.protocol, host: ctx.host } satisfies Seen;
      });
      await broker.start();
      const response = await fetch(`http://127.0.0.1:${port}/transport-probe`, { headers: forged });
      return { seen: await response.json() as Seen, hsts: response.headers.get('strict-transport-security') };
    }

    it('believes X-Forwarded-* only from proxy.trusted', async () => {
      const untrusted = await brokerSees([]);
      assert.deepEqual([untrusted.seen.ip, untrusted.seen.protocol], ['127.0.0.1', 'http']);
      await broker?.stop();
      const trusted = await brokerSees(['127.0.0.1']);
      assert.deepEqual([trusted.seen.ip, trusted.seen.protocol], ['203.0.113.9', 'https']);
    });

    it('sends HSTS when its issuer is https', async () => {
      assert.equal((await brokerSees([])).hsts, null);
      await broker?.stop();
      assert.equal((await brokerSees(['127.0.0.1'], 'https://tongban.example.cn')).hsts, hstsValue);
    });
  });
});
