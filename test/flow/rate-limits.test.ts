/**
 * Rate limits against real brokers: two broker nodes on one Redis (the second sees the first one's
 * count within a sync interval or two: each node decides from its synced view and pushes its counts
 * in the background, broker/platform/rate-limit/view.ts). A flood of wrong client secrets, wrong operator keys and wrong legacy signatures is
 * refused with 429 + Retry-After after a few; per-client, per-address and per-person limits refuse
 * the request over them (OAuth JSON for clients, the bilingual page for people).
 *
 * Attack inputs tried (see the closing count in each test): 100 wrong client secrets + 1 right one
 * after the block, 12 wrong operator keys (+2 dashboard sign-ins while blocked), 14 wrong legacy signatures, 8 introspection calls over
 * a limit of 5, 10 authorization requests over a limit of 6, 3 logins of one person over a limit of 2,
 * 6 revocation calls over a limit of 3, 6 legacy login entries over a limit of 3.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { cliActor } from '../../broker/members/index.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { newNamespace, redisUrl } from '../support/nodes.ts';
import { hangzhouPortal } from '../support/clients.ts';
import { syncIntervalMs } from '../../broker/platform/rate-limit/view.ts';

const portal: ConfiguredClient = hangzhouPortal({ grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile' });
const other: ConfiguredClient = { ...portal, client_id: 'suzhou-portal', client_secret: 'suzhou-portal-secret', city: '320500', redirect_uris: ['http://127.0.0.1:9/suzhou/cb'] };
const legacySystem = { serviceCode: 'jx-gjj', servicePassword: 'jx-gjj-service-password-2027' };

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const beijingTime = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
/** Requests sent this far apart reach a node after it has pushed its own last count. */
const apart = () => new Promise((resolve) => setTimeout(resolve, 2 * syncIntervalMs));

/** Asks `attempt` every 100 ms until it answers true, for a second at most. */
async function withinASecond(attempt: () => Promise<boolean>): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < 1_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await attempt()) return true;
  }
  return false;
}

/**
 * Requests alternating between the nodes, one sync interval or more apart: a node hears of the
 * other's requests when it pushes its own, so the one request the other node let through last may
 * be unknown to it, and one request over the limit may pass (docs/security.md).
 */
function assertRefusedAcrossNodes(statuses: number[], points: number, refused = 429): void {
  const passed = statuses.filter((status) => status !== refused).length;
  assert.ok(statuses.slice(0, points).every((status) => status !== refused), `nothing refused below the limit: ${statuses.join(',')}`);
  assert.ok(passed <= points + 1, `at most one over the limit: ${statuses.join(',')}`);
  assert.ok(statuses.slice(statuses.indexOf(refused)).every((status) => status === refused), `refused on both nodes from then on: ${statuses.join(',')}`);
  assert.deepEqual(statuses.slice(-2), [refused, refused], 'both nodes refuse');
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('rate limits (two broker nodes on one Redis)', function () {
  this.timeout(60_000);
  let federation: Federation;
  let secondStore: Store;
  let second: Broker;
  let node1: string;
  let node2: string;
  let rp: RelyingParty;
  /** The Suzhou portal logs people in: the Hangzhou portal is blocked by the first test's flood. */
  let suzhou: RelyingParty;

  before(async () => {
    const namespace = newNamespace();
    federation = await startFederation({
      clients: [portal, other],
      store: redisUrl,
      overrides: {
        storeNamespace: namespace,
        legacySystems: [{ province: 'zhejiang', city: '330400', name: '嘉兴公积金', callbackUrl: 'http://127.0.0.1:9/jx', scopes: ['profile'], ...legacySystem }],
        rateLimits: {
          perClient: { introspection: { points: 5, durationSeconds: 600 }, revocation: { points: 3, durationSeconds: 600 } },
          // Windows longer than this file runs on a loaded machine: a window that ends mid-test
          // would let the next request through (a fixed window starts again from zero).
          perAddress: { authorization: { points: 6, durationSeconds: 600 }, legacyLogin: { points: 3, durationSeconds: 600 } },
          perPerson: { login: { points: 2, durationSeconds: 600 } },
        },
      },
    });
    node1 = federation.issuer;
    secondStore = await createStore(redisUrl, { namespace });
    second = await createBroker({ ...federation.broker.config, listen: { host: '127.0.0.1', port: 0 } }, { store: secondStore, logger: createMemoryLogger('error') });
    node2 = await second.start();
    rp = await relyingParty(node1, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    suzhou = await relyingParty(node1, { clientId: other.client_id, clientSecret: other.client_secret!, redirectUri: other.redirect_uris[0]! });
  });
  after(async () => {
    await second?.stop();
    await secondStore?.close();
    await federation?.stop();
  });

  const tokenRequest = (node: string, clientId: string, secret: string) => fetch(`${node}/token`, {
    method: 'POST',
    headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: portal.redirect_uris[0]! }),
  });

  it('a flood of 100 wrong secrets for one client in a minute is refused after 10; the second node refuses even the right one', async () => {
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 100; i += 1) {
      const response = await tokenRequest(node1, portal.client_id, `wrong-secret-${i}`);
      statuses.push(response.status);
      if (response.status === 429) refusal ??= response;
      else await response.arrayBuffer();
    }
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'the first few are plain invalid_client');
    assert.ok(statuses.slice(11).every((status) => status === 429), `then 429: ${statuses.join(',')}`);
    assert.ok(refusal);
    assert.ok(Number(refusal.headers.get('retry-after')) >= 1);
    const body = await refusal.json() as { error: string };
    assert.equal(body.error, 'temporarily_unavailable');
    // The second node sees the first one's count: the right secret is refused too, before any check.
    const right = await tokenRequest(node2, portal.client_id, portal.client_secret!);
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers.get('retry-after')) > 60, 'blocked for blockSeconds');
    // Another client from the same address is still served (below the per-address failure limit).
    const otherClient = await tokenRequest(node2, other.client_id, other.client_secret!);
    assert.equal(otherClient.status, 400, 'invalid_grant for the made-up code, not a refusal');
  });

  it('per client: introspection over its limit is refused with 429 on either node', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      if (i > 0) await apart();
      const response = await fetch(`${i % 2 ? node2 : node1}/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic(other.client_id, other.client_secret!), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token: `made-up-token-${i}` }),
      });
      statuses.push(response.status);
      if (response.status === 429) {
        assert.ok(response.headers.get('retry-after'));
        assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
      } else await response.arrayBuffer();
    }
    // Was [200 ×5, 429 ×3] when every request asked the store; now the sixth may pass.
    assertRefusedAcrossNodes(statuses, 5);
  });

  it('every refusal is counted in tongban_rate_limited_total by the limit that refused it (on the node that refused)', async () => {
    const scrape = (await federation.broker.metrics.scrape()).body;
    const count = (limit: string) => Number(new RegExp(`^tongban_rate_limited_total\\{limit="${limit.replace('.', '\\.')}"\\} (\\d+)$`, 'm').exec(scrape)?.[1] ?? 0);
    // The flood above: refused before the secret check, per client on node 1 (and per address).
    assert.ok(count('failure.clientSecretPerClient') >= 80, scrape.split('\n').filter((line) => line.startsWith('tongban_rate_limited_total')).join('\n'));
    // Introspection over its per-client limit: node 1 refused its last one or two.
    assert.ok(count('client.introspection') >= 1);
  });

  it('the dashboard reads its counts and sessions from the shared store: a login served by node 1 shows on node 2, signed in at node 1', async () => {
    const { api_key: key } = await federation.broker.registry.addOperator(cliActor(), { name: '长三角一网通办运营', role: 'federation' });
    const signedIn = await fetch(`${node1}/admin/session`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ operator_key: key }).toString(),
    });
    assert.equal(signedIn.status, 303);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const suzhouSuccesses = async () => {
      const response = await fetch(`${node2}/admin/dashboard/counts.json?window=hour`, { headers: { cookie } });
      assert.equal(response.status, 200, 'node 2 knows the session node 1 began');
      return ((await response.json()) as { cities: Record<string, { success: number }> }).cities['320500']?.success ?? 0;
    };
    const before = await suzhouSuccesses();
    await login(new Browser(), suzhou, 'lisi');
    let after = before;
    // Node 1 flushes its login counts to the store every 5 s (broker/dashboard/login-counts.ts).
    for (let wait = 0; wait < 160 && after === before; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await suzhouSuccesses();
    }
    assert.equal(after, before + 1);
  });

  it('wrong operator keys: after 10 the address is refused, on either node', async () => {
    const wrongKey = async (node: string, i: number) => {
      const response = await fetch(`${node}/admin/cities`, { headers: { authorization: `Bearer tbo_000000000000_wrong${String(i).padStart(38, 'A')}`, accept: 'application/json' } });
      await response.arrayBuffer();
      return response.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push(await wrongKey(i % 2 ? node2 : node1, i));
    assert.deepEqual(statuses, Array(11).fill(401));
    // Node 1 counted the 11th and started the block: it knows at once. Node 2 hears of it within a
    // sync interval or two (it was refused at once, before, when every check asked the store).
    assert.equal(await wrongKey(node1, 11), 429);
    assert.ok(await withinASecond(async () => (await wrongKey(node2, 12)) === 429), 'node 2 refuses within a second');
  });

  it('the dashboard sign-in is behind the same operator-key limit: the blocked address gets 429 there too, on either node', async () => {
    for (const node of [node1, node2]) {
      const response = await fetch(`${node}/admin/session`, {
        method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ operator_key: 'tbo_000000000000_guess' }).toString(),
      });
      assert.equal(response.status, 429);
      assert.ok(Number(response.headers.get('retry-after')) >= 1);
      assert.equal(response.headers.get('set-cookie'), null, 'no dashboard session');
      await response.arrayBuffer();
    }
  });

  it('wrong legacy signatures: after 10 for one service, that service is refused', async () => {
    const guess = async (node: string, i: number) => {
      const time = beijingTime();
      const params = { method: 'ticketValidation', servicecode: legacySystem.serviceCode, time, sign: md5(`guess-${i}${time}`), st: 'AAAAAAAAAAAAAAAAAAAAAAAA', datatype: 'json' };
      const response = await fetch(`${node}/zj/sso/servlet/simpleauth?${new URLSearchParams(params)}`);
      await response.arrayBuffer();
      return response.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push(await guess(i % 2 ? node2 : node1, i));
    assert.deepEqual(statuses, Array(11).fill(200), 'the legacy API answers its own error code');
    // Node 1 counted the 11th: refused there at once; node 2 hears of the block within a sync
    // interval or two (refused at once, before, when every check asked the store).
    assert.equal(await guess(node1, 11), 429);
    assert.ok(await withinASecond(async () => (await guess(node2, 12)) === 429), 'node 2 refuses within a second');
    assert.deepEqual([await guess(node1, 13), await guess(node2, 14)], [429, 429]);
  });

  it('wrong legacy signatures: the blocked service is refused when it calls by POST too (the documented way)', async () => {
    const time = beijingTime();
    const form = { method: 'ticketValidation', servicecode: legacySystem.serviceCode, time, sign: md5(`post-${time}`), st: 'AAAAAAAAAAAAAAAAAAAAAAAA', datatype: 'json' };
    const response = await fetch(`${node2}/zj/sso/servlet/simpleauth`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
    });
    assert.equal(response.status, 429, 'the per-service block holds whatever the method');
    assert.ok(Number(response.headers.get('retry-after')) >= 1);
    await response.arrayBuffer();
  });

  it('per person: a third login of one national subject within the window gets the bilingual 429 page', async () => {
    await login(new Browser(), suzhou, 'zhangsan');
    await login(new Browser(), suzhou, 'zhangsan');
    const attempt = await authorizationRequest(suzhou);
    const page = await browse(new Browser(), suzhou, attempt, 'zhangsan');
    assert.equal(page.status, 429);
    assert.match(page.body, /请求过于频繁/);
    assert.match(page.body, /too_many_requests/);
    // Another person is not affected.
    const { tokens } = await login(new Browser(), suzhou, 'wangwu');
    assert.ok(tokens.access_token);
  });

  it('per address: authorization requests over the limit get the bilingual page with Retry-After', async () => {
    // Earlier tests in this file spent some of this address's authorization requests already, all
    // at node 1. Node 2 goes first: a key new to a node is let through once while it asks the store.
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 10; i += 1) {
      if (i > 0) await apart();
      const attempt = await authorizationRequest(rp);
      const url = new URL(attempt.url);
      const response = await fetch(`${i % 2 ? node1 : node2}${url.pathname}${url.search}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      statuses.push(response.status);
      if (response.status === 429) refusal ??= response;
      else await response.arrayBuffer();
    }
    assert.ok(statuses.includes(429), statuses.join(','));
    // A node learns the shared count from the answers to its own pushes: the node that did not
    // refuse first may let one more through before its push brings the count (docs/security.md:
    // one sync interval's requests per node), and from then on both refuse.
    const after = statuses.slice(statuses.indexOf(429));
    assert.ok(after.filter((status) => status !== 429).length <= 1, statuses.join(','));
    assert.deepEqual(statuses.slice(-2), [429, 429], statuses.join(','));
    assert.ok(Number(refusal!.headers.get('retry-after')) >= 1);
    const body = await refusal!.text();
    assert.match(body, /请求过于频繁/);
    assert.match(body, /<html lang="zh-CN"/, 'one language a page: Chinese by default');
  });

  it('per client: revocation over its limit gets OAuth JSON 429 on either node', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      if (i > 0) await apart();
      const response = await fetch(`${i % 2 ? node2 : node1}/token/revocation`, {
        method: 'POST',
        headers: { authorization: basic(other.client_id, other.client_secret!), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token: `made-up-token-${i}` }),
      });
      statuses.push(response.status);
      if (response.status === 429) {
        assert.ok(Number(response.headers.get('retry-after')) >= 1);
        assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
      } else await response.arrayBuffer();
    }
    // Was [200 ×3, 429 ×3] when every request asked the store; now the fourth may pass.
    assertRefusedAcrossNodes(statuses, 3);
  });

  it('per address: legacy login entries over the limit get the bilingual page with Retry-After, on either node', async () => {
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      if (i > 0) await apart();
      const response = await fetch(`${i % 2 ? node2 : node1}/zj/sso/usp.do?action=ssoLogin&servicecode=${legacySystem.serviceCode}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      statuses.push(response.status);
      if (response.status === 429) refusal ??= response;
      else await response.arrayBuffer();
    }
    // Was [not 429 ×3, 429 ×3] when every request asked the store; now the fourth may pass.
    assertRefusedAcrossNodes(statuses, 3);
    assert.ok(Number(refusal!.headers.get('retry-after')) >= 1);
    const body = await refusal!.text();
    assert.match(body, /请求过于频繁/);
    assert.match(body, /too_many_requests/);
  });
});
