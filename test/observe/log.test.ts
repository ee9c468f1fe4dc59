/**
 * Logs with pino: JSON lines with levels, a request id per request (returned in `x-request-id`,
 * carried by every line written while serving it, shown on error pages as the support reference),
 * and redaction rules that keep ID numbers, names, phones and tokens out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createLogger, createMemoryLogger, requestLogging, type Logger } from '../../broker/platform/log.ts';
import { Browser } from '../support/browser.ts';
import { login, relyingParty, startFederation, type Federation } from '../support/federation.ts';
import { hangzhouPortal } from '../support/clients.ts';

const portal: ConfiguredClient = hangzhouPortal({ scope: 'openid profile phone id_number' });

describe('logs (pino)', function () {
  this.timeout(30_000);

  describe('lines and redaction', () => {
    it('writes one JSON object per line with time, level and event', () => {
      const raw: string[] = [];
      const logger = createLogger({ level: 'info', write: (line) => raw.push(line), base: { service: 'tongban' } });
      logger.debug('not_written');
      logger.info('written', { code: 'x', attempts: 2, absent: undefined });
      logger.error('failed', { code: 'y' });
      assert.equal(raw.length, 2);
      const [first, second] = raw.map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(!raw[0]!.includes('\n'));
      assert.equal(first!.level, 'info');
      assert.equal(first!.event, 'written');
      assert.equal(first!.service, 'tongban');
      assert.equal(first!.attempts, 2);
      assert.ok(!('absent' in first!));
      assert.ok(!Number.isNaN(Date.parse(String(first!.time))));
      assert.equal(second!.level, 'error');
    });

    it('redacts personal data and credentials, in fields and in child bindings', () => {
      const logger = createMemoryLogger('debug');
      const person = { name: '张三', idnum: '11010519491231002X', id_number: '11010519491231002X', phone_number: '13800138000', phone: '13800138000' };
      const credentials = { token: 'tok-abc', access_token: 'at-abc', id_token: 'eyJ.x.y', refresh_token: 'rt-abc', client_secret: 'cs-abc', password: 'pw-abc', ticket: 'ST-abc', cookie: 'c-abc' };
      logger.info('oops', { ...person, ...credentials, code: 'kept' });
      logger.child({ name: '李四', request_id: 'r-1' }).warn('child', { authorization: 'Bearer abc' });
      const text = JSON.stringify(logger.lines);
      for (const value of [...Object.values(person), ...Object.values(credentials), '李四', 'Bearer abc']) {
        assert.ok(!text.includes(value), `${value} was logged`);
      }
      assert.equal(logger.lines[0]!.name, '[redacted]');
      assert.equal(logger.lines[0]!.code, 'kept');
      assert.equal(logger.lines[1]!.request_id, 'r-1');
    });
  });

  describe('standard error', () => {
    // Lines are written asynchronously: those still buffered must reach stderr when the process ends.
    for (const ending of ['process.exit(3)', "setImmediate(() => { throw new Error('crash'); })"]) {
      it(`writes every line before the process ends (${ending.startsWith('process') ? 'exit' : 'crash'})`, () => {
        const script = [
          `import { createLogger } from ${JSON.stringify(new URL('../../broker/platform/log.ts', import.meta.url).pathname)};`,
          "const logger = createLogger({ level: 'info' });",
          "for (let n = 0; n < 2000; n += 1) logger.info('line', { n, padding: 'x'.repeat(200) });",
          ending,
        ].join('\n');
        const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        assert.notEqual(child.status, 0);
        const numbers = child.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { n: number }).n);
        assert.deepEqual(numbers, Array.from({ length: 2000 }, (_, n) => n));
      });
    }
  });

  describe('request id', () => {
    it('gives each request an id, a child logger and a header; lines written meanwhile carry it', async () => {
      const logger = createMemoryLogger('info');
      const app = new Koa();
      app.use(requestLogging(logger));
      app.use(async (ctx) => {
        (ctx.state.logger as Logger).info('handled', { via: 'child' });
        logger.info('handled', { via: 'root' });
        ctx.body = { requestId: ctx.state.requestId };
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const first = await fetch(base);
        const id = first.headers.get('x-request-id');
        assert.match(id ?? '', /^[0-9a-f-]{36}$/);
        assert.deepEqual(await first.json(), { requestId: id });
        assert.deepEqual(logger.lines.filter((l) => l.event === 'handled').map((l) => [l.via, l.request_id]), [['child', id], ['root', id]]);
        const second = await fetch(base);
        assert.notEqual(second.headers.get('x-request-id'), id);
        // A proxy's well-formed id is kept; anything else is replaced.
        assert.equal((await fetch(base, { headers: { 'x-request-id': 'edge-0001.abc' } })).headers.get('x-request-id'), 'edge-0001.abc');
        assert.notEqual((await fetch(base, { headers: { 'x-request-id': 'bad id\twith<html>' } })).headers.get('x-request-id'), 'bad id\twith<html>');
      } finally {
        server.close();
      }
      assert.equal(logger.lines.filter((l) => l.event === 'handled' && l.request_id === undefined).length, 0);
    });

    describe('on the broker', () => {
      let federation: Federation;
      before(async () => {
        federation = await startFederation({ clients: [portal] });
      });
      after(async () => federation?.stop());

      it('returns x-request-id and shows it on error pages as the support reference, matching the log', async () => {
        const discovery = await fetch(`${federation.issuer}/.well-known/openid-configuration`);
        assert.match(discovery.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
        const page = await fetch(`${federation.issuer}/interaction/no-such-interaction`, { headers: { accept: 'text/html' } });
        assert.ok(page.status >= 400);
        const id = page.headers.get('x-request-id');
        assert.ok(id);
        const body = await page.text();
        assert.ok(body.includes(id), 'the error page shows the support reference');
        assert.ok(federation.logger.lines.some((line) => line.request_id === id), 'the lines of that request carry its id');
      });

      it('keeps personal data and tokens out of the lines of a whole login', async () => {
        const rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
        const { tokens } = await login(new Browser(), rp, 'zhangsan', { scope: 'openid profile phone id_number' });
        const national = federation.simulator.claimsOf('zhangsan');
        const text = JSON.stringify(federation.logger.lines);
        for (const value of [national.name, national.cert_no, national.phone_number, tokens.access_token, tokens.id_token, portal.client_secret]) {
          assert.ok(value && !text.includes(String(value)), 'a log line carries personal data or a token');
        }
        const loginLines = federation.logger.lines.filter((line) => line.event === 'national_login');
        assert.ok(loginLines.length > 0 && loginLines.every((line) => typeof line.request_id === 'string'));
      });
    });
  });
});
