/**
 * Interchangeable nodes: three broker processes behind one issuer URL share everything through the
 * store (keys, cookie keys, interactions, sessions, tokens), on Redis, PostgreSQL and a Redis
 * Cluster. A balancer with no stickiness sends each request where the test says.
 */
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.ts';
import { acceptConsent, authorizationRequest, browse, login, relyingParty, stopAtRedirectUri } from '../support/federation.ts';
import { nodeStartTimeoutMs, portal, postgresUrl, redisUrl, startNodeFederation, type NodeFederation } from '../support/nodes.ts';
import { runScript, startRedisCluster, type RedisCluster } from '../../scripts/dev/processes.ts';

const backends: Array<{ name: string; store: () => Promise<string>; stop?: () => Promise<void> }> = [
  { name: 'Redis', store: async () => redisUrl },
  { name: 'PostgreSQL', store: async () => postgresUrl },
  (() => {
    let cluster: RedisCluster | undefined;
    return {
      name: 'a Redis Cluster (three masters)',
      store: async () => (cluster = await startRedisCluster()).url,
      stop: async () => cluster?.stop(),
    };
  })(),
];

for (const backend of backends) {
  describe(`three broker nodes on ${backend.name}`, function () {
    this.timeout(30_000);
    let federation: NodeFederation;

    before(async function () {
      // The first node, then two at once: each may take up to nodeStartTimeoutMs on a busy machine.
      this.timeout(3 * nodeStartTimeoutMs);
      federation = await startNodeFederation({ store: await backend.store(), nodes: 3 });
    });
    after(async () => {
      await federation?.stop();
      await backend.stop?.();
    });

    it('a login starts on node A, returns from the national platform to node B and redeems its code on node C', async () => {
      const { balancer, rp, simulator, issuer } = federation;
      let node = 0;
      balancer.route = () => node;
      const served = balancer.served.length;
      const browser = new Browser();
      const attempt = await authorizationRequest(rp, { scope: 'openid profile phone' });

      // Node A: the authorization request, up to the redirect to the national platform.
      const toNational = await browser.follow(attempt.url, { stopAt: (url) => url.origin === new URL(simulator.url).origin });
      assert.ok(toNational.location?.startsWith(simulator.url), `node A sends the browser to the national platform: ${toNational.status}`);
      const loginPage = await browser.follow(toNational.location!);
      assert.match(loginPage.body, /name="password"/);

      // Node B: the callback from the national platform and the end of the interaction.
      node = 1;
      const returned = await browser.submitForm(loginPage.body, loginPage.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt: stopAtRedirectUri(rp) });
      // The phone number is a sensitive item: asked separately, first-party portal or not (docs/privacy.md).
      const back = await acceptConsent(browser, returned, stopAtRedirectUri(rp));
      assert.ok(back.location?.startsWith(rp.redirectUri), `node B completes the login: ${back.status} ${back.body.slice(0, 200)}`);

      // Node C: the code is redeemed.
      node = 2;
      const callback = new URL(back.location!);
      const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
        pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
      });
      const byNode = (n: number) => balancer.served.slice(served).filter((s) => s.node === n).map((s) => s.path);
      assert.ok(byNode(0).includes('/auth'), `node A: ${byNode(0).join(' ')}`);
      assert.ok(byNode(1).includes('/national/callback') && byNode(1).some((p) => p.startsWith('/auth/')), `node B: ${byNode(1).join(' ')}`);
      assert.deepEqual(byNode(2), ['/token']);

      // Node A verifies nothing of its own: the ID token checks out against the JWKS of every node.
      const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
      const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: portal.client_id });
      assert.equal(payload.name, '张三');

      // Userinfo on A, refresh on B, introspection on C.
      node = 0;
      const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, payload.sub!);
      assert.equal(userinfo.sub, payload.sub);
      node = 1;
      const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
      node = 2;
      assert.equal((await oidc.tokenIntrospection(rp.config, refreshed.access_token)).active, true);

      // A replay of the code on A ends the whole grant, whichever node issued its tokens.
      node = 0;
      await assert.rejects(oidc.authorizationCodeGrant(rp.config, callback, {
        pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce,
      }), (error: { error?: string }) => error.error === 'invalid_grant');
      node = 1;
      assert.equal((await oidc.tokenIntrospection(rp.config, refreshed.access_token)).active, false);
      node = 2;
      await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    it('serves logins, single sign-on and logout with every request on the next node (round robin)', async () => {
      const { balancer, rp } = federation;
      balancer.route = (_request, n) => n % 3;
      const served = balancer.served.length;
      for (const username of ['zhangsan', 'lisi', 'wangwu']) {
        const browser = new Browser();
        const { tokens } = await login(browser, rp, username);
        assert.ok(tokens.id_token);
        // The broker session made on some node is found by another: no national login this time.
        const again = await authorizationRequest(rp, { prompt: 'none' });
        const page = await browse(browser, rp, again);
        assert.ok(new URL(page.location!).searchParams.get('code'), `single sign-on across nodes: ${page.status}`);
        // Logout on yet another node ends it for all.
        const end = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: portal.post_logout_redirect_uris![0]! });
        const confirm = await browser.follow(end);
        await browser.submitForm(confirm.body, confirm.url, { logout: 'yes' }, { stopAt: (u) => u.href.startsWith('http://127.0.0.1:9/') });
        const after = await browse(browser, rp, await authorizationRequest(rp, { prompt: 'none' }));
        assert.equal(new URL(after.location!).searchParams.get('error'), 'login_required');
      }
      const nodes = new Set(balancer.served.slice(served).map((s) => s.node));
      assert.deepEqual([...nodes].sort(), [0, 1, 2]);
      assert.ok(balancer.served.slice(served).every((s) => s.status < 500), 'no server errors');
    });

    it('an app registered at run time (operator CLI, on the store) logs in through every node', async () => {
      const registered = await runScript('scripts/cli/cities.ts', [
        'register', '--city', '330100', '--name', '杭州多节点测试', '--redirect-uri', 'http://127.0.0.1:9/multinode/callback', '--first-party',
      ], { config: federation.config });
      assert.equal(registered.code, 0, registered.stderr);
      const app = JSON.parse(registered.stdout) as { client_id: string; client_secret: string };
      const { balancer, issuer } = federation;
      balancer.route = (_request, n) => n % 3;
      const served = balancer.served.length;
      const rp = await relyingParty(issuer, { clientId: app.client_id, clientSecret: app.client_secret, redirectUri: 'http://127.0.0.1:9/multinode/callback' });
      const { tokens } = await login(new Browser(), rp, 'zhangsan');
      assert.ok(tokens.id_token);
      assert.deepEqual([...new Set(balancer.served.slice(served).map((s) => s.node))].sort(), [0, 1, 2]);
    });

    it('every node publishes the same signing keys and reports ready', async () => {
      const answers = await Promise.all(federation.nodes.map(async (node) => {
        const jwks = await (await fetch(`${node.url}/jwks`)).json() as { keys: Array<{ kid: string }> };
        const ready = await fetch(`${node.url}/readyz`);
        return { kids: jwks.keys.map((k) => k.kid).sort().join(' '), ready: ready.status };
      }));
      assert.equal(new Set(answers.map((a) => a.kids)).size, 1);
      assert.ok(answers[0]!.kids.length > 0);
      assert.deepEqual(answers.map((a) => a.ready), [200, 200, 200]);
    });
  });
}
