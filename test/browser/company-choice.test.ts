/**
 * The company choice page in a real headless Chromium: lisi signs in at the national-platform
 * simulator, sees the companies he may act for now (not the one whose mandate expired), picks one,
 * and the portal receives that company.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { type Browser } from 'playwright-core';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';
import { authorizationRequest, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';


const portal: ConfiguredClient = {
  client_id: 'suzhou-portal',
  client_secret: 'suzhou-portal-secret',
  client_name: '苏州企业服务门户',
  city: '320500',
  // Nothing listens here: the test answers the portal's callback in the browser itself.
  redirect_uris: ['http://127.0.0.1:9/suzhou/callback'],
  scope: 'openid profile legal_person',
  first_party: true,
};

describe('company choice page in a real browser', function () {
  this.timeout(60_000);
  let federation: Federation;
  let rp: RelyingParty;
  let browser: Browser;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('shows the eligible companies, not the expired one; choosing one completes the login', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.route(`${rp.redirectUri}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'portal callback' }));
    const attempt = await authorizationRequest(rp, { scope: 'openid profile legal_person' });

    await page.goto(attempt.url.href);
    await page.waitForURL((url) => url.href.startsWith(federation.simulator.url));
    await page.fill('input[name="username"]', 'lisi');
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');

    await page.waitForURL((url) => url.href.startsWith(federation.issuer) && url.pathname.endsWith('/company'));
    assert.equal(await page.locator('h1').textContent(), '选择办事企业');
    const radios = page.locator('input[name="credit_code"]');
    const offered: string[] = [];
    for (let i = 0; i < await radios.count(); i += 1) offered.push(await radios.nth(i).getAttribute('value') ?? '');
    assert.deepEqual(offered.sort(), [demoCompanies.jiaxing.creditCode, demoCompanies.suzhou.creditCode].sort());
    const text = await page.locator('main').textContent() ?? '';
    assert.ok(text.includes(demoCompanies.suzhou.name) && text.includes(demoCompanies.jiaxing.name));
    assert.ok(!text.includes(demoCompanies.hefei.name) && !text.includes(demoCompanies.hefei.creditCode), 'the expired mandate is not offered');
    assert.match(text, /经办人/);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN', 'one language: the person\'s');
    await page.screenshot({ path: join(tmpdir(), 'tongban-company-choice.png'), fullPage: true });

    await page.check(`input[name="credit_code"][value="${demoCompanies.suzhou.creditCode}"]`);
    await page.click('button[value="act"]');
    // The company credit code is a sensitive item: asked separately, first-party apps included (issue 13).
    await page.waitForURL((url) => url.href.startsWith(federation.issuer) && !url.pathname.endsWith('/company'));
    assert.equal(await page.locator('input[name="sensitive"][value="legal_person"]').count(), 1);
    await page.click('button[value="allow"]');
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));

    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.url()), {
      pkceCodeVerifier: attempt.codeVerifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
    const claims = decodeJwt(tokens.id_token!);
    assert.equal((claims.represents as { credit_code: string }).credit_code, demoCompanies.suzhou.creditCode);
    assert.equal(claims.creditCode, demoCompanies.suzhou.creditCode);
    assert.equal(claims.userType, 2);
    await context.close();
  });
});
