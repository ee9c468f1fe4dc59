/**
 * The operator dashboard in a real headless Chromium: an operator signs in with an operator key,
 * sees the login charts move after a few logins, suspends an app and that app's next login is
 * refused; a province operator sees only its province and cannot act on another. Screenshots go to
 * test-output/screenshots/ (untracked; docs/images/ holds copies shown in the README).
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { type Browser, type Page } from 'playwright-core';
import { cliActor } from '../../broker/members/index.ts';
import { Browser as UserAgent } from '../support/browser.ts';
import { authorizationRequest, browse, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';

const screenshots = 'test-output/screenshots';

describe('operator dashboard in Chromium', function () {
  this.timeout(90_000);
  let federation: Federation;
  let browser: Browser;
  let federationKey: string;
  let zhejiangKey: string;
  let hangzhou: RelyingParty;
  let suzhouClientId: string;

  before(async () => {
    federation = await startFederation({ clients: [] });
    const registry = federation.broker.registry;
    federationKey = (await registry.addOperator(cliActor(), { name: '长三角一网通办运营', role: 'federation' })).api_key;
    zhejiangKey = (await registry.addOperator(cliActor(), { name: '浙江省大数据局', role: 'province', province: '330000' })).api_key;
    const redirectUri = 'http://127.0.0.1:9/hangzhou/cb';
    const app = await registry.registerApp(cliActor(), { city: '330100', name: '杭州办事', redirect_uris: [redirectUri], scope: 'openid profile', first_party: true });
    hangzhou = await relyingParty(federation.issuer, { clientId: app.client_id, clientSecret: app.client_secret!, redirectUri });
    suzhouClientId = (await registry.registerApp(cliActor(), { city: '320500', name: '苏州办事', redirect_uris: ['http://127.0.0.1:9/suzhou/cb'], first_party: true })).client_id;
    await mkdir(screenshots, { recursive: true });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await federation?.stop();
  });

  async function signIn(key: string): Promise<Page> {
    const page = await browser.newPage({ locale: 'zh-CN', viewport: { width: 1280, height: 1400 } });
    await page.goto(`${federation.issuer}/admin`);
    await page.fill('#operator-key', key);
    await page.click('#sign-in');
    await page.waitForSelector('#operator');
    return page;
  }

  // Run in the page as functions (its policy forbids evaluating strings); this test's typings have no DOM.
  type PageGlobal = { document: { getElementById(id: string): { textContent: string | null } | null } };
  const hourLogins = () => (globalThis as unknown as PageGlobal).document.getElementById('hour-logins')?.textContent ?? '';
  const hourCounted = () => /^\d+$/.test((globalThis as unknown as PageGlobal).document.getElementById('hour-logins')?.textContent ?? '');
  const total = async (page: Page) => Number(await page.evaluate(hourLogins));

  it('signs an operator in, moves the charts after logins, suspends an app whose next login is refused', async () => {
    const page = await signIn(federationKey);
    assert.match(await page.textContent('#operator') ?? '', /长三角一网通办运营/);
    await page.waitForFunction(hourCounted);
    const before = await total(page);
    for (let i = 0; i < 3; i += 1) await login(new UserAgent(), hangzhou, 'zhangsan');
    await page.waitForFunction((n) => Number((globalThis as unknown as PageGlobal).document.getElementById('hour-logins')?.textContent) >= n, before + 3, { timeout: 15_000 });
    assert.equal(await page.locator('#hour-chart').count(), 1);

    await page.click(`button[data-app="${hangzhou.clientId}"][data-action="suspend"]`);
    await page.waitForSelector('#result');
    await assert.rejects(login(new UserAgent(), hangzhou, 'zhangsan'));
    // Refused for the right reason: the broker's page with the code app_suspended, not a redirect to the app.
    const refused = await browse(new UserAgent(), hangzhou, await authorizationRequest(hangzhou), 'zhangsan');
    assert.equal(refused.status, 403);
    assert.match(refused.body, /app_suspended/);
    await page.goto(`${federation.issuer}/admin`);
    assert.equal(await page.textContent(`tr[data-client="${hangzhou.clientId}"] td.suspended`), 'suspended');
    await page.waitForFunction(hourCounted);
    await page.screenshot({ path: `${screenshots}/dashboard-federation.png`, fullPage: true });
    // Resumed again, it logs in.
    await page.click(`button[data-app="${hangzhou.clientId}"][data-action="resume"]`);
    await page.waitForSelector('#result');
    await login(new UserAgent(), hangzhou, 'zhangsan');
    await page.close();
  });

  it('shows a province operator only its province, and refuses an action on another province', async () => {
    const page = await signIn(zhejiangKey);
    const cities = await page.locator('tr.city').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-city') ?? ''));
    assert.ok(cities.length > 0);
    assert.ok(cities.every((code) => code.startsWith('33')), cities.join(','));
    assert.equal(await page.locator(`tr[data-client="${suzhouClientId}"]`).count(), 0);
    await page.waitForFunction(hourCounted);
    await page.screenshot({ path: `${screenshots}/dashboard-province.png`, fullPage: true });

    // A form aimed at 苏州's app, with this session's own token: refused, nothing changed.
    const csrf = await page.getAttribute('input[name="csrf"]', 'value');
    const status = await page.evaluate(async ({ path, token }) => {
      const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(token ?? '')}` });
      return response.status;
    }, { path: `/admin/dashboard/apps/${suzhouClientId}/suspend`, token: csrf });
    assert.equal(status, 403);
    assert.equal((await federation.broker.registry.records.app(suzhouClientId))?.status, 'active');
    const counts = await page.evaluate(async () => (await fetch('/admin/dashboard/counts.json?window=day')).json() as Promise<{ provinces: Record<string, unknown> }>);
    assert.ok(Object.keys(counts.provinces).every((province) => province === '330000'), Object.keys(counts.provinces).join(','));
    await page.close();
  });
});
