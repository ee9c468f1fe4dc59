/**
 * The outbound URL rules (broker/platform/http/outbound.ts): attack inputs an app could register as
 * a back-channel logout URI or `jwks_uri`, checked at registration and again at connection time.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAppInput } from '../../broker/members/index.ts';
import { addressRange, checkOutboundUrl, createGuardedFetch, isAllowedAddress, OutboundRefusal, OutboundRefused, type HostResolver } from '../../broker/platform/http/outbound.ts';

/** URLs no mode may register: internal addresses in the spellings a URL parser accepts. */
const internalUrls = [
  'https://127.0.0.1/logout',
  'https://2130706433/logout', // decimal 127.0.0.1
  'https://017700000001/logout', // octal 127.0.0.1
  'https://0x7f000001/logout', // hex 127.0.0.1
  'https://0x7f.1/logout', // short hex form
  'https://127.1/logout', // short form
  'https://[::ffff:127.0.0.1]/logout', // IPv4-mapped IPv6
  'https://[::ffff:7f00:1]/logout', // IPv4-mapped, hex
  'https://[::1]/logout',
  'https://localhost/logout',
  'https://metadata.localhost/logout',
  'https://169.254.169.254/latest/meta-data/', // cloud metadata (link-local)
  'https://[::ffff:169.254.169.254]/',
  'https://100.64.0.1/', // shared address space (carrier-grade NAT)
  'https://0.0.0.0/',
  'https://0/',
  'https://[::]/',
  'https://10.0.0.1/',
  'https://172.16.5.4/',
  'https://192.168.1.1/',
  'https://[::ffff:192.168.1.1]/',
  'https://[fc00::1]/', // unique local
  'https://[fd12:3456::1]/',
  'https://[fe80::1]/', // link-local
  'https://224.0.0.1/', // multicast
  'https://[ff02::1]/',
  'https://255.255.255.255/', // broadcast
  'https://240.0.0.1/', // reserved
  'https://192.0.2.10/', // documentation (reserved)
  'https://[2001:db8::1]/',
  'https://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
  'https://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
];

describe('outbound URL rules', () => {
  describe('at registration', () => {
    for (const url of internalUrls) {
      it(`production refuses ${url}`, () => {
        const refusal = checkOutboundUrl(url, 'production');
        assert.ok(refusal instanceof OutboundRefused, url);
        assert.equal(refusal.code, OutboundRefusal.address);
      });
    }

    it('development refuses every internal address but loopback', () => {
      const loopback = new Set(['https://127.0.0.1/logout', 'https://2130706433/logout', 'https://017700000001/logout', 'https://0x7f000001/logout',
        'https://0x7f.1/logout', 'https://127.1/logout', 'https://[::ffff:127.0.0.1]/logout', 'https://[::ffff:7f00:1]/logout', 'https://[::1]/logout',
        'https://localhost/logout', 'https://metadata.localhost/logout']);
      for (const url of internalUrls) {
        assert.equal(checkOutboundUrl(url, 'development')?.code, loopback.has(url) ? undefined : OutboundRefusal.address, url);
      }
    });

    it('plain http only to loopback and only in development', () => {
      assert.equal(checkOutboundUrl('http://127.0.0.1:4000/logout', 'development'), undefined);
      assert.equal(checkOutboundUrl('http://localhost:4000/logout', 'development'), undefined);
      assert.equal(checkOutboundUrl('http://127.0.0.1:4000/logout', 'production')?.code, OutboundRefusal.scheme);
      assert.equal(checkOutboundUrl('http://app.example.cn/logout', 'development')?.code, OutboundRefusal.scheme);
      assert.equal(checkOutboundUrl('http://10.0.0.1/logout', 'development')?.code, OutboundRefusal.scheme);
      for (const url of ['ftp://app.example.cn/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO', 'javascript:alert(1)']) {
        assert.equal(checkOutboundUrl(url, 'development')?.code, OutboundRefusal.scheme, url);
      }
      assert.equal(checkOutboundUrl('https://user:pw@app.example.cn/', 'production')?.code, OutboundRefusal.credentials);
      assert.equal(checkOutboundUrl('not a url', 'production')?.code, OutboundRefusal.notUrl);
    });

    it('public https URLs pass', () => {
      for (const url of ['https://app.example.cn/logout', 'https://8.8.8.8/jwks', 'https://[2400:3200::1]/jwks', 'https://[::ffff:8.8.8.8]/']) {
        assert.equal(checkOutboundUrl(url, 'production'), undefined, url);
      }
    });

    it('app registration refuses back-channel logout and jwks URIs that point inside', () => {
      const app = { city: '330100', name: '杭州办事', redirect_uris: ['https://banshi.hangzhou.example.cn/cb'] };
      for (const uri of ['https://169.254.169.254/logout', 'https://[::ffff:10.0.0.1]/logout', 'https://localhost/logout']) {
        const problems = checkAppInput({ ...app, backchannel_logout_uri: uri }, { mode: 'production' }).problems;
        assert.deepEqual(problems.map((p) => `${p.field}:${p.code}`), ['backchannel_logout_uri:invalid_app_metadata'], uri);
        const jwks = checkAppInput({ ...app, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: uri }, { mode: 'production' }).problems;
        assert.deepEqual(jwks.map((p) => p.field), ['jwks_uri'], uri);
      }
      assert.deepEqual(checkAppInput({ ...app, backchannel_logout_uri: 'https://banshi.hangzhou.example.cn/logout' }, { mode: 'production' }).problems, []);
      assert.deepEqual(checkAppInput({ ...app, redirect_uris: ['http://127.0.0.1:4000/cb'], backchannel_logout_uri: 'http://127.0.0.1:4000/logout' }, { mode: 'development' }).problems, []);
    });

    it('address classes come from ipaddr.js, IPv4-mapped unwrapped', () => {
      assert.equal(addressRange('::ffff:127.0.0.1'), 'loopback');
      assert.equal(addressRange('100.64.0.1'), 'carrierGradeNat');
      assert.equal(addressRange('app.example.cn'), undefined);
      assert.equal(addressRange('0x7f.1'), undefined, 'non-canonical forms are not addresses (the URL parser canonicalises)');
      assert.equal(isAllowedAddress('127.0.0.1', 'production'), false);
      assert.equal(isAllowedAddress('127.0.0.1', 'development'), true);
      assert.equal(isAllowedAddress('10.1.2.3', 'development'), false);
      assert.equal(isAllowedAddress('not-an-address', 'development'), false);
    });
  });

  describe('at connection time', () => {
    let server: Server;
    let port: number;
    const hits: string[] = [];

    before(async () => {
      server = createServer((request, response) => {
        hits.push(request.url!);
        const to = /^\/to\/(.+)$/.exec(request.url!)?.[1];
        if (to) {
          response.writeHead(302, { location: decodeURIComponent(to) });
          return void response.end();
        }
        if (request.url === '/big') return void response.end('x'.repeat(4096));
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      port = (server.address() as AddressInfo).port;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    /** A DNS that answers `addresses` for every name: the rebinding attacker's. */
    const dnsAnswering = (...addresses: string[]): HostResolver => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

    async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
      try {
        await promise;
        return undefined;
      } catch (error) {
        assert.equal((error as Error).name, 'TypeError');
        return ((error as { cause?: { code?: string } }).cause)?.code;
      }
    }

    it('development reaches loopback by address and by the name localhost', async () => {
      const fetch = createGuardedFetch({ mode: 'development' });
      assert.equal((await fetch(`http://127.0.0.1:${port}/jwks`)).status, 200);
      assert.equal((await fetch(`http://localhost:${port}/jwks`)).status, 200);
    });

    it('production refuses a name that resolves to loopback (localhost) before connecting', async () => {
      const fetch = createGuardedFetch({ mode: 'production' });
      const before = hits.length;
      assert.equal(await refusalOf(fetch(`https://localhost:${port}/jwks`)), OutboundRefusal.address);
      assert.equal(hits.length, before);
    });

    for (const answer of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254', '10.0.0.7', '100.64.0.1', 'fd00::1', 'fe80::1', '0.0.0.0', '224.0.0.1']) {
      it(`production refuses a public-looking name that resolves to ${answer} (DNS rebinding)`, async () => {
        const fetch = createGuardedFetch({ mode: 'production', resolver: dnsAnswering(answer), timeoutMs: 2000 });
        assert.equal(await refusalOf(fetch(`https://jwks.rebind.example.cn:${port}/jwks`)), OutboundRefusal.address);
      });
    }

    it('a name answering one public and one internal address is refused', async () => {
      const fetch = createGuardedFetch({ mode: 'production', resolver: dnsAnswering('8.8.8.8', '127.0.0.1') });
      assert.equal(await refusalOf(fetch('https://mixed.example.cn/jwks')), OutboundRefusal.address);
    });

    it('development refuses a name that resolves to a private address', async () => {
      const fetch = createGuardedFetch({ mode: 'development', resolver: dnsAnswering('192.168.0.10') });
      assert.equal(await refusalOf(fetch(`https://printer.example.cn:${port}/`)), OutboundRefusal.address);
    });

    for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://[fe80::1]/', 'http://100.64.0.1/', 'https://192.168.1.1/admin']) {
      it(`a redirect to ${target} is not followed`, async () => {
        const fetch = createGuardedFetch({ mode: 'development', timeoutMs: 2000 });
        const code = await refusalOf(fetch(`http://127.0.0.1:${port}/to/${encodeURIComponent(target)}`));
        assert.ok(code === OutboundRefusal.address || code === OutboundRefusal.scheme, `${target}: ${code}`);
      });
    }

    it('production refuses an IPv4-mapped loopback literal at connection time', async () => {
      const fetch = createGuardedFetch({ mode: 'production', resolver: dnsAnswering('127.0.0.1') });
      assert.equal(await refusalOf(fetch(`https://[::ffff:127.0.0.1]:${port}/jwks`)), OutboundRefusal.address);
    });

    it('redirects within the rules are followed, a bounded number of times', async () => {
      const fetch = createGuardedFetch({ mode: 'development', maxRedirects: 2 });
      const ok = await fetch(`http://127.0.0.1:${port}/to/${encodeURIComponent('/jwks')}`);
      assert.equal(ok.status, 200);
      const loop = `/to/${encodeURIComponent(`/to/${encodeURIComponent(`/to/${encodeURIComponent('/jwks')}`)}`)}`;
      assert.equal(await refusalOf(fetch(`http://127.0.0.1:${port}${loop}`)), OutboundRefusal.tooManyRedirects);
      assert.equal((await fetch(`http://127.0.0.1:${port}/to/x`, { redirect: 'manual' })).status, 302);
    });

    it('a response larger than the bound is refused', async () => {
      const fetch = createGuardedFetch({ mode: 'development', maxBodyBytes: 1024 });
      assert.equal(await refusalOf(fetch(`http://127.0.0.1:${port}/big`)), OutboundRefusal.tooLarge);
    });
  });
});
