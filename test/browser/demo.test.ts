/**
 * The demo as a person uses it: a real headless Chromium opens the demo portal, presses 登录,
 * signs in at the national-platform simulator as zhangsan and sees who they are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startDemo, type Demo } from '../../scripts/dev/demo.ts';
import { freePort } from '../support/federation.ts';

export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('demo in a real browser', function () {
  this.timeout(60_000);
  let demo: Demo;
  let browser: Browser;

  before(async () => {
    const [brokerPort, simulatorPort, portalPort, servicePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'tongban-demo-'));
    const configFile = join(dir, 'demo.json');
    writeFileSync(configFile, JSON.stringify({
      clients: [{
        client_id: 'hangzhou-portal',
        client_secret: 'hangzhou-portal-demo-secret',
        client_name: '杭州市民中心（演示）',
        city: '330100',
        redirect_uris: [`http://127.0.0.1:${portalPort}/callback`],
        post_logout_redirect_uris: [`http://127.0.0.1:${portalPort}/`],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile phone',
        first_party: true,
      }],
    }));
    demo = await startDemo({
      TONGBAN_MODE: 'development',
      TONGBAN_CONFIG: configFile,
      TONGBAN_ISSUER: `http://127.0.0.1:${brokerPort}`,
      TONGBAN_PORT: String(brokerPort),
      TONGBAN_METRICS_PORT: '0',
      TONGBAN_STORE: `sqlite:${join(dir, 'tongban.sqlite')}`,
      TONGBAN_LOG_LEVEL: 'warn',
      TONGBAN_NATIONAL_ISSUER: `http://127.0.0.1:${simulatorPort}`,
      SIMULATOR_PORT: String(simulatorPort),
      PORTAL_PORT: String(portalPort),
      DEMO_SERVICE_PORT: String(servicePort),
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('logs zhangsan in through the broker and shows who they are', async () => {
    const page = await browser.newPage();
    await page.goto(demo.portalUrl);
    await page.click('#login');
    await page.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    assert.match(await page.content(), /统一身份认证/);
    await page.fill('input[name="username"]', 'zhangsan');
    await page.fill('input[name="password"]', 'tongban-demo');
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.href.startsWith(demo.portalUrl) && !url.pathname.startsWith('/callback'));
    assert.match(await page.textContent('#who') ?? '', /张三/);
    const idToken = await page.textContent('#id-token') ?? '';
    assert.match(idToken, /urn:tongban:loa:3/);
    assert.match(idToken, /authlevel/);
    await page.screenshot({ path: join(tmpdir(), 'tongban-demo-logged-in.png') });

    // The portal calls the 上海 公积金 service with the person's access token for that service.
    await page.click('#service-0');
    await page.waitForSelector('#service-answer');
    const heading = await page.textContent('h3') ?? '';
    assert.match(heading, /HTTP 200/, `service answer: ${await page.textContent('#service-answer')}`);
  });

  it('shows a readable page, not a stack trace, for a forged callback', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${demo.brokerUrl}/national/callback?state=forged&code=x`);
    assert.equal(response?.status(), 400);
    const text = await page.textContent('main') ?? '';
    assert.match(text, /upstream_state_mismatch/);
    assert.match(text, /国家政务服务平台/);
  });
});
