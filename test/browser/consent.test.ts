/**
 * The separate consent page in a real headless Chromium (issue 13): zhangsan signs in for a
 * first-party Hangzhou app that asks for his ID number and phone, sees the app, its city, his own
 * name and each sensitive item with its stated purpose, refuses the ID number and still signs in;
 * then withdraws the phone on /account. Screenshots of each page go to test-output/screenshots/
 * (untracked) for docs/privacy.md.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { type Browser } from 'playwright-core';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { authorizationRequest, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';

const screenshots = join(process.cwd(), 'test-output', 'screenshots');

const portal: ConfiguredClient = {
  client_id: 'hangzhou-social-insurance',
  client_secret: 'hangzhou-social-insurance-secret',
  client_name: '杭州社保服务',
  city: '330100',
  // Nothing listens here: the test answers the portal's callback in the browser itself.
  redirect_uris: ['http://127.0.0.1:9/hangzhou/callback'],
  scope: 'openid profile phone id_number',
  first_party: true,
  purposes: { id_number: '核验参保人身份，办理社保关系转移', phone: '办理进度短信通知' },
};

describe('separate consent page in a real browser', function () {
  this.timeout(60_000);
  let federation: Federation;
  let rp: RelyingParty;
  let browser: Browser;

  before(async () => {
    mkdirSync(screenshots, { recursive: true });
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('names the app, its city, the person and each purpose; refusing the ID number still signs in; /account withdraws', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.route(`${rp.redirectUri}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'portal callback' }));
    const attempt = await authorizationRequest(rp, { scope: 'openid profile phone id_number' });

    await page.goto(attempt.url.href);
    await page.waitForURL((url) => url.href.startsWith(federation.simulator.url));
    await page.fill('input[name="username"]', 'zhangsan');
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');

    await page.waitForURL((url) => url.href.startsWith(federation.issuer) && url.pathname.startsWith('/interaction/'));
    assert.equal(await page.locator('h1').textContent(), '授权确认');
    assert.equal(await page.locator('#app').textContent(), '杭州社保服务');
    assert.equal(await page.locator('#city').textContent(), '杭州');
    const text = await page.locator('main').textContent() ?? '';
    assert.match(text, /张三/, 'the person the consent is about');
    assert.match(text, /核验参保人身份，办理社保关系转移/);
    assert.match(text, /办理进度短信通知/);
    assert.match(text, /同一省份的所有应用共用/);
    assert.ok(await page.locator('input[name="sensitive"][value="id_number"]').isChecked());
    await page.screenshot({ path: join(screenshots, 'consent-page.png'), fullPage: true });

    await page.uncheck('input[name="sensitive"][value="id_number"]');
    await page.screenshot({ path: join(screenshots, 'consent-id-number-refused.png'), fullPage: true });
    await page.click('button[value="allow"]');
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.url()), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    const scopes = (tokens.scope ?? '').split(' ');
    assert.ok(scopes.includes('phone') && !scopes.includes('id_number'), `scopes ${tokens.scope}`);

    await page.goto(`${federation.issuer}/account`);
    const app = page.locator(`li.app[data-client="${portal.client_id}"]`);
    assert.equal(await app.count(), 1, 'the app that received tokens is listed');
    assert.equal(await app.locator('[data-item="phone"]').count(), 1);
    assert.equal(await app.locator('[data-item="id_number"]').count(), 0, 'the refused item was never received');
    await page.screenshot({ path: join(screenshots, 'account-releases.png'), fullPage: true });
    await app.locator('form.withdraw button').click();
    await page.waitForURL((url) => url.pathname === '/account');
    assert.equal(await page.locator('form.withdraw').count(), 0, 'nothing left to withdraw');
    await page.screenshot({ path: join(screenshots, 'account-withdrawn.png'), fullPage: true });
    await context.close();
  });
});
