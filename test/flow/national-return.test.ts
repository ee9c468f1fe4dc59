/**
 * The national return at the callback itself (issue 17): one hop, bound to the browser that started
 * the login by its own cookie, and no call to the national platform that a login does not need.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';

const portal: ConfiguredClient = {
  client_id: 'ningbo-portal',
  client_secret: 'ningbo-portal-secret',
  client_name: '宁波市民中心',
  city: '330200',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  grant_types: ['authorization_code'],
  scope: 'openid profile',
  first_party: true,
};

describe('the national return (end to end)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret, redirectUri: portal.redirect_uris[0]! });
  });
  after(() => federation?.stop());

  /** Signs in at the national platform and stops where the browser would return to the broker. */
  async function atCallback(browser: Browser): Promise<string> {
    const attempt = await authorizationRequest(rp);
    const stopAt = (url: URL) => url.pathname === '/national/callback';
    let page = await browser.follow(attempt.url, { stopAt });
    page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
    assert.ok(page.location?.includes('/national/callback'), `at the callback: ${page.status}`);
    return page.location!;
  }

  it('runs at the callback and sends the browser straight to the resume, without the national userinfo', async () => {
    const paths: string[] = [];
    const onRequest = (message: unknown) => paths.push((message as { request: IncomingMessage }).request.url ?? '');
    const browser = new Browser();
    const callback = await atCallback(browser);
    subscribe('http.server.request.start', onRequest);
    let answer;
    try {
      answer = await browser.get(callback);
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }
    assert.equal(answer.status, 303);
    assert.match(new URL(answer.headers.get('location')!, federation.issuer).pathname, /^\/auth\/[\w-]+$/);
    assert.ok(paths.some((path) => path.startsWith('/token')), `the code was exchanged: ${paths.join(' ')}`);
    assert.ok(!paths.some((path) => path.startsWith('/me')), `no userinfo call: ${paths.join(' ')}`);
    const done = await browser.follow(new URL(answer.headers.get('location')!, federation.issuer).href, { stopAt: stopAtRedirectUri(rp) });
    assert.ok(new URL(done.location!).searchParams.get('code'), 'the portal gets a code');
  });

  it('counts only for the browser that started the login', async () => {
    const callback = await atCallback(new Browser());
    const other = await new Browser().follow(callback, { stopAt: stopAtRedirectUri(rp) });
    assert.equal(other.status, 400);
    assert.match(other.body, /upstream_state_mismatch/);
    assert.equal(other.location, undefined);
  });

  it('refuses a binding cookie planted in another browser without a valid signature', async () => {
    const starter = new Browser();
    const callback = await atCallback(starter);
    const binding = starter.jar.all().find((cookie) => cookie.name.startsWith('tongban_national_') && !cookie.name.endsWith('.sig'));
    const signature = starter.jar.get(`${binding!.name}.sig`);
    assert.ok(binding && signature, 'the binding cookie and its signature');
    // A sibling host can set cookies for this one, but cannot sign them under the broker's keys.
    const forged = signature.value.startsWith('A') ? `B${signature.value.slice(1)}` : `A${signature.value.slice(1)}`;
    for (const sig of [forged, undefined]) {
      const victim = new Browser();
      victim.jar.set(callback, `${binding.name}=${binding.value}; Path=/national/callback`);
      if (sig !== undefined) victim.jar.set(callback, `${binding.name}.sig=${sig}; Path=/national/callback`);
      const answer = await victim.follow(callback, { stopAt: stopAtRedirectUri(rp) });
      assert.equal(answer.status, 400, `signature ${sig ?? 'missing'}`);
      assert.match(answer.body, /upstream_state_mismatch/);
      assert.equal(answer.location, undefined);
    }
  });
});
