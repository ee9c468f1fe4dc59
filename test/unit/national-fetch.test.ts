/**
 * The broker's own fetch for calls to the national platform (broker/national/http-fetch.ts): it
 * must behave as fetch does where openid-client and the error classification look.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTimedFetch } from '../../broker/national/http-fetch.ts';
import { freePort } from '../../scripts/dev/processes.ts';

describe('national platform fetch', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; type: string | undefined; body: string }> = [];

  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, type: request.headers['content-type'], body: Buffer.concat(chunks).toString() });
        if (request.url === '/slow') return void setTimeout(() => response.end('late'), 2000);
        if (request.url === '/redirect') {
          response.writeHead(302, { location: '/elsewhere' });
          return void response.end();
        }
        if (request.url === '/empty') {
          response.writeHead(204);
          return void response.end();
        }
        response.setHeader('content-type', 'application/json');
        response.setHeader('x-many', ['a', 'b']);
        response.end(JSON.stringify({ ok: true, path: request.url }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends method, headers and a form body; answers a standard Response', async () => {
    const fetch = createTimedFetch(1000);
    const response = await fetch(`${base}/token`, { method: 'POST', headers: new Headers({ accept: 'application/json' }), body: new URLSearchParams({ code: 'abc' }) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('x-many'), 'a, b');
    assert.deepEqual(await response.json(), { ok: true, path: '/token' });
    assert.deepEqual(seen.at(-1), { method: 'POST', type: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'code=abc' });
    assert.equal((await fetch(new URL(`${base}/empty`))).status, 204);
  });

  it('never follows a redirect', async () => {
    const response = await createTimedFetch(1000)(`${base}/redirect`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/elsewhere');
  });

  it('gives up after the time-out with a TimeoutError, and honours an abort signal', async () => {
    const started = Date.now();
    await assert.rejects(createTimedFetch(300)(`${base}/slow`), (error: Error) => error.name === 'TimeoutError');
    assert.ok(Date.now() - started < 1000);
    const controller = new AbortController();
    const pending = createTimedFetch(5000)(`${base}/slow`, { signal: controller.signal });
    controller.abort(new DOMException('stop', 'AbortError'));
    await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
  });

  it('reports an unreachable server as fetch does: TypeError "fetch failed" with the cause', async () => {
    const port = await freePort();
    await assert.rejects(createTimedFetch(1000)(`http://127.0.0.1:${port}/`), (error: Error) =>
      error instanceof TypeError && error.message === 'fetch failed' && (error.cause as NodeJS.ErrnoException).code === 'ECONNREFUSED');
  });
});
