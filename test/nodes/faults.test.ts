/**
 * Faults a deployment sees, survived: the store crashing and coming back (a private redis-server
 * killed and restarted), the national platform slow, and SIGTERM in the middle of a login. The
 * broker runs as its own process, so "no crash" means the process is still there.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProtectedHeader } from 'jose';
import { createStore } from '../../broker/platform/storage/index.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, login, stopAtRedirectUri, type RelyingParty } from '../support/federation.ts';
import { eventually, portal, startNodeFederation, type NodeFederation } from '../support/nodes.ts';
import { openSockets, startPrivateRedis, type PrivateRedis } from '../../scripts/dev/processes.ts';

const basic = `Basic ${Buffer.from(`${portal.client_id}:${portal.client_secret}`).toString('base64')}`;

/** Runs a login up to the moment the browser is sent back from the national platform. */
async function atNationalCallback(browser: Browser, rp: RelyingParty): Promise<string> {
  const attempt = await authorizationRequest(rp, { prompt: 'login' });
  const stopAt = (url: URL) => url.pathname === '/national/callback';
  let page = await browser.follow(attempt.url, { stopAt });
  page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
  assert.ok(page.location?.includes('/national/callback'), `at the national callback: ${page.status}`);
  return page.location!;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

describe('faults', function () {
  this.timeout(60_000);
  let redis: PrivateRedis;
  let federation: NodeFederation;

  before(async () => {
    redis = await startPrivateRedis();
    federation = await startNodeFederation({
      store: redis.url,
      nodes: 1,
      config: { keys: { refreshSeconds: 1 }, national: { timeoutMs: 1000 } },
    });
  });
  after(async () => {
    await federation?.stop();
    await redis?.stop();
  });
  afterEach(async () => federation.simulator.behave());

  it('answers /healthz and /readyz', async () => {
    const node = federation.nodes[0]!;
    const health = await fetch(`${node.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${federation.issuer}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', mode: 'development' });
  });

  it('store unreachable: /readyz fails, requests get 503 pages or JSON, no crash, and it resumes by itself', async () => {
    const { rp, issuer, nodes } = federation;
    const node = nodes[0]!;
    const browser = new Browser();
    const { tokens } = await login(browser, rp, 'zhangsan');
    const kid = decodeProtectedHeader(tokens.id_token!).kid;

    await redis.kill();

    const ready = await timed(fetch(`${issuer}/readyz`));
    assert.equal(ready.value.status, 503);
    assert.deepEqual(await ready.value.json(), { status: 'unavailable', reason: 'store_unavailable' });
    assert.ok(ready.ms < 2000, `readiness answered in ${ready.ms} ms`);
    assert.equal((await fetch(`${issuer}/healthz`)).status, 200, 'alive, only not ready');

    // The authorization endpoint sends the client the standard error; the broker's own routes show a page.
    const attempt = await authorizationRequest(rp);
    const page = await new Browser().follow(attempt.url, { stopAt: stopAtRedirectUri(rp) });
    const back = new URL(page.location!);
    assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
    assert.equal(back.searchParams.get('state'), attempt.state);
    const callback = await new Browser().get(`${issuer}/national/callback?state=abc&code=def`);
    assert.equal(callback.status, 503);
    assert.match(callback.body, /store_unavailable/);
    assert.match(callback.body, /服务暂时不可用/);
    assert.doesNotMatch(callback.body, /at \w+ \(/, 'no stack trace');

    // A program: standard OAuth JSON.
    const refresh = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    });
    assert.equal(refresh.status, 503);
    assert.equal(((await refresh.json()) as { error: string }).error, 'temporarily_unavailable');
    const userinfo = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(userinfo.status, 503);
    assert.equal(node.child.exitCode, null, 'the node is still running');

    // Back, empty (no persistence): the node notices by itself and writes its keys back.
    await redis.start();
    await eventually(async () => (await fetch(`${issuer}/readyz`)).status === 200, 15_000, 'ready again');
    const store = await createStore(redis.url, { namespace: federation.namespace });
    try {
      await eventually(async () => (await store.get('keys:ring')) && (await store.get('keys:material')), 5_000, 'the keys written back');
    } finally {
      await store.close();
    }
    await federation.addNode();
    const second = federation.nodes[1]!;
    const kids = async (url: string) => ((await (await fetch(`${url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).join();
    assert.equal(await kids(second.url), await kids(node.url), 'a node started after the outage uses the same keys');
    const { tokens: after } = await login(new Browser(), rp, 'lisi');
    assert.equal(decodeProtectedHeader(after.id_token!).kid, kid);
    assert.ok(!node.logs.some((line) => line.event === 'request_crashed'), 'nothing crashed');
    await second.stop();
    federation.nodes.pop();
    federation.balancer.nodes = federation.nodes.map((n) => n.url);
  });

  it('national platform slow: every wait bounded by the time-out, a clear page, and no sockets left behind', async () => {
    const { rp, nodes } = federation;
    const node = nodes[0]!;
    const burst = async () => {
      const browsers = Array.from({ length: 8 }, () => new Browser());
      const callbacks = await Promise.all(browsers.map((browser) => atNationalCallback(browser, rp)));
      await federation.simulator.misbehave('slow', { delayMs: 4000 });
      const answers = await Promise.all(browsers.map((browser, i) => timed(browser.follow(callbacks[i]!, { stopAt: stopAtRedirectUri(rp) }))));
      await federation.simulator.behave();
      for (const { value, ms } of answers) {
        assert.equal(value.status, 504);
        assert.match(value.body, /upstream_timeout/);
        assert.match(value.body, /暂时无法连接国家政务服务平台/);
        assert.ok(ms < 3000, `answered in ${ms} ms with a 1 s time-out`);
      }
    };
    await burst();
    await sleep(300);
    const afterOne = openSockets(node.pid);
    await burst();
    await burst();
    await sleep(300);
    const afterThree = openSockets(node.pid);
    assert.ok(afterThree <= afterOne + 2, `sockets: ${afterOne} after one burst, ${afterThree} after three`);
    // And it still logs people in.
    assert.ok((await login(new Browser(), rp, 'wangwu')).tokens.id_token);
  });

  it('SIGTERM: the login in flight finishes, then the process exits', async () => {
    const { rp, balancer } = federation;
    // A node whose national time-out outlasts the slow answer, so its request can finish.
    const stopping = await federation.addNode({ TONGBAN_NATIONAL_TIMEOUT_MS: '5000' });
    const index = federation.nodes.indexOf(stopping);
    // The national return (at the callback itself, or at the interaction's path for older logins).
    balancer.route = (request) => (/^\/(national\/callback|interaction\/[^/]+\/national)/.test(request.url ?? '') ? index : 0);
    const browser = new Browser();
    const callback = await atNationalCallback(browser, rp);
    // Each call to the national platform (token, keys) now takes 1.5 s: a login needs one or two.
    await federation.simulator.misbehave('slow', { delayMs: 1500 });
    let answeredAt = 0;
    const inFlight = browser.follow(callback, { stopAt: stopAtRedirectUri(rp) }).then((page) => {
      answeredAt = Date.now();
      return page;
    });
    await sleep(400);
    const signalledAt = Date.now();
    const exit = stopping.stop('SIGTERM');
    await sleep(100);
    await assert.rejects(fetch(`${stopping.url}/healthz`), 'no new connections once stopping');
    const page = await inFlight;
    const code = await exit;
    const exitedAt = Date.now();
    assert.ok(page.location?.startsWith(rp.redirectUri), `the login finished: ${page.status} ${page.body.slice(0, 200)}`);
    assert.ok(new URL(page.location!).searchParams.get('code'));
    assert.equal(code, 0);
    assert.ok(answeredAt > signalledAt + 500, `the login was still in flight when the signal came (answered ${answeredAt - signalledAt} ms after it)`);
    assert.ok(answeredAt <= exitedAt);
    assert.ok(exitedAt - answeredAt < 2000, `exited ${exitedAt - answeredAt} ms after the last answer`);
    assert.ok(stopping.logs.some((line) => line.event === 'shutdown' && line.signal === 'SIGTERM'));
    federation.nodes.splice(index, 1);
    balancer.nodes = federation.nodes.map((n) => n.url);
    balancer.route = (_request, n) => n % balancer.nodes.length;
  });
});
