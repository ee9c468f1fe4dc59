/**
 * The person's language travels with the login: the broker passes it to the national platform as
 * `ui_locales`, the simulator's pages speak it (over `Accept-Language` and an older switch choice),
 * and a switch made at the simulator during the login still wins there. Back after a finished login
 * shows the simulator's expired page in that language, with a way on to the client.
 */
import assert from 'node:assert/strict';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const portal: ConfiguredClient = {
  client_id: 'language-portal', client_secret: 'language-portal-secret', city: '320500',
  redirect_uris: ['http://127.0.0.1:9/callback'], scope: 'openid profile', first_party: true,
};

describe('the person\'s language at the national platform (ui_locales)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => {
    await federation?.stop();
  });

  const simulatorOrigin = () => new URL(federation.simulator.url).origin;

  it('passes ui_locales on the national request; the simulator answers in it, and its expired page too', async () => {
    const browser = new Browser({ headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    // An older choice at the simulator's switch (Chinese) does not outweigh this login's language.
    await browser.follow(`${simulatorOrigin()}/preferences?lang=zh-CN&return=/.well-known/openid-configuration`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const attempt = await authorizationRequest(rp, { ui_locales: 'en' });
    const loginPage = await browser.follow(attempt.url, { stopAt: (url) => url.href.startsWith('http://127.0.0.1:9') });
    const nationalRequest = loginPage.history.map((u) => new URL(u)).find((u) => u.origin === simulatorOrigin() && u.pathname === '/auth');
    assert.ok(nationalRequest, `no national authorization request in ${loginPage.history.join(' → ')}`);
    assert.equal(nationalRequest.searchParams.get('ui_locales'), 'en');
    assert.match(loginPage.body, /<html lang="en"/);
    assert.match(loginPage.body, /Sign in to continue to/);

    const done = await browser.submitForm(loginPage.body, loginPage.url, { username: 'zhangsan', password: demoPassword }, { stopAt: (url) => url.href.startsWith('http://127.0.0.1:9') });
    assert.ok(done.location?.startsWith('http://127.0.0.1:9/callback'), `login finished: ${done.status} ${done.url}`);
    // Back: the national login page again, now gone. Its page says so in English, with a way on.
    const back = await browser.get(loginPage.url);
    assert.equal(back.status, 400);
    assert.match(back.body, /<html lang="en"/);
    assert.match(back.body, /role="alert"/);
    const wayOn = /<a class="way-on" href="([^"]+)">([^<]+)</.exec(back.body);
    assert.ok(wayOn, 'a way on');
    assert.equal(wayOn[1], `${federation.issuer}/account`);
    assert.match(wayOn[2]!, /^Continue to /);
  });

  it('a switch made at the simulator during the login wins over ui_locales', async () => {
    const browser = new Browser();
    const attempt = await authorizationRequest(rp, { ui_locales: 'en' });
    const loginPage = await browser.follow(attempt.url);
    assert.match(loginPage.body, /<html lang="en"/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const switched = await browser.follow(`${simulatorOrigin()}/preferences?lang=zh-CN&return=${encodeURIComponent(new URL(loginPage.url).pathname)}`);
    assert.equal(switched.url, loginPage.url);
    assert.match(switched.body, /<html lang="zh-CN"/);
  });
});
