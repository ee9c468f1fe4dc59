/**
 * Signed out means signed out, on a shared terminal (自助通办), in a real headless Chromium: a person
 * signs out at a portal, presses 退出 on the broker's page, then walks away from the national
 * platform's "确认退出登录？" page. The next person who presses 登录 in that browser must be asked for a
 * password at the national platform, not become the previous person. The broker's signed-out page
 * says whether the national session ended too.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createDemoPortal, type DemoPortal } from '../../scripts/dev/demo-portal/index.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { freePort, startFederation, type Federation } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';


describe('signed out means signed out on a shared terminal', function () {
  this.timeout(60_000);
  let federation: Federation;
  let browser: Browser;
  let page: Page;
  let portal: DemoPortal;
  let base: string;
  let national: string;

  before(async () => {
    base = `http://127.0.0.1:${await freePort()}`;
    const client: ConfiguredClient = {
      client_id: 'terminal-portal',
      client_secret: 'terminal-portal-secret',
      client_name: '自助通办终端（演示）',
      city: '330100',
      redirect_uris: [`${base}/callback`],
      post_logout_redirect_uris: [`${base}/`],
      scope: 'openid profile',
      first_party: true,
    };
    federation = await startFederation({ clients: [client] });
    national = new URL(federation.simulator.url).origin;
    portal = createDemoPortal({
      brokerIssuer: federation.issuer, clientId: client.client_id, clientSecret: client.client_secret!, baseUrl: base,
      port: Number(new URL(base).port), title: client.client_name!, scope: client.scope!, cookieName: 'terminal_portal_sid',
    });
    await portal.start();
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  });
  after(async () => {
    await browser?.close();
    await portal?.stop();
    await federation?.stop();
  });

  const atPortalHome = (url: URL) => url.origin === base && url.pathname === '/';

  async function signIn(username: string): Promise<void> {
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');
    await page.waitForURL(atPortalHome);
  }

  it('asks the next person for a password after a sign-out whose national confirmation was walked away from', async () => {
    await page.goto(base);
    await page.click('#login');
    await page.waitForURL((url) => url.origin === national);
    await signIn('zhangsan');
    assert.match(await page.textContent('#who') ?? '', /张三/);

    // Sign out at the portal, press 退出 at the broker: its page says what happens at the national platform.
    await page.click('#logout');
    await page.waitForURL((url) => url.href.startsWith(`${federation.issuer}/session/end`));
    assert.match(await page.textContent('body') ?? '', /国家政务服务平台，请在其页面确认退出/);
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.origin === national && url.pathname.startsWith('/session/end'));
    // ... and walk away from "确认退出登录？": the national session lives on.
    assert.equal(federation.simulator.sessionsOf('zhangsan').length, 1, 'the national session is still alive');

    // The next person at this terminal presses 登录.
    await page.goto(base);
    assert.equal(await page.locator('#who').count(), 0);
    await page.click('#login');
    await page.waitForURL((url) => url.origin === national);
    assert.equal(await page.locator('input[name="password"]').count(), 1, 'the national platform asks for a password');
    await signIn('lisi');
    assert.match(await page.textContent('#who') ?? '', /李四/, 'the next person is themselves, not the previous one');
    assert.doesNotMatch(await page.textContent('#who') ?? '', /张三/);
    // A fresh national login removed the marker: single sign-on works as before for this person.
    assert.equal((await page.context().cookies(federation.issuer)).some((c) => c.name === 'tongban_signed_out'), false);
  });

  it('says on the broker\'s signed-out page that the national session was ended too', async () => {
    await page.goto(`${federation.issuer}/session/end`);
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.origin === national && url.pathname.startsWith('/session/end'));
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.origin === new URL(federation.issuer).origin && url.pathname.startsWith('/session/end/success'));
    assert.match(await page.textContent('#national-sign-out') ?? '', /国家政务服务平台的登录也已退出/);
    assert.deepEqual(federation.simulator.sessionsOf('lisi'), []);
  });
});
