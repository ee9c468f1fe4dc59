/**
 * The demo federation as a person clicks through it (issue 15 item 5), in a real headless Chromium:
 * `npm start`'s configuration with the 杭州 and 上海 portals — person login, the 公积金 answer as a
 * readable table, step-up to a face check, single sign-on to the second province, sign-out, a
 * company login with nothing pre-selected, the language switch, and every dead end as a page.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { demoAccounts, demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';
import { startDemoFederation } from './demo-setup.ts';
import { launchChromium } from '../support/chromium.ts';

describe('demo in a real browser', function () {
  this.timeout(60_000);
  let demo: Awaited<ReturnType<typeof startDemoFederation>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let hangzhou: string;
  let shanghai: string;

  before(async () => {
    demo = await startDemoFederation();
    hangzhou = demo.portals.find((p) => p.city === '330100')!.url;
    shanghai = demo.portals.find((p) => p.city === '310000')!.url;
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'zh-CN' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const atHome = (base: string) => (url: URL) => url.origin === base && url.pathname === '/';
  const claim = async (name: string) => (await page.locator(`#claims tr[data-claim="${name}"] td.value`).textContent())?.trim();
  const signInNationally = async (username: string) => {
    await page.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');
  };
  /** The broker's consent page, when the portal asks for something not yet consented (the phone number). */
  const consentIfAsked = async (base: string) => {
    const broker = new URL(demo.brokerUrl).origin;
    await page.waitForURL((url) => atHome(base)(url) || (url.origin === broker && url.pathname.startsWith('/interaction/') && !url.pathname.endsWith('/company')));
    if (!atHome(base)(new URL(page.url()))) await page.click('button[value="allow"]');
    await page.waitForURL(atHome(base));
  };

  it('logs zhangsan in at the 杭州 portal as a person and shows, in words, what the portal received', async () => {
    await page.goto(hangzhou);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.match(await page.content(), /name="viewport"/);
    assert.equal(await page.locator('#login').textContent(), '以个人身份登录');
    assert.equal(await page.locator('#login-company').textContent(), '以企业身份登录');
    assert.equal(await page.locator('#login-face').textContent(), '需要人脸核验 (4级)');
    await page.click('#login');
    await signInNationally('zhangsan');
    await consentIfAsked(hangzhou);
    assert.match(await page.textContent('#who') ?? '', /张三/);
    assert.equal(await claim('acr'), 'urn:tongban:loa:3');
    assert.equal(await claim('authlevel'), '3', 'Zhejiang dialect');
    assert.match(await page.textContent('#claims tr[data-claim="acr"]') ?? '', /高级实名/);
    assert.match(await page.textContent('#claims tr[data-claim="auth_time"]') ?? '', /\d{4}年\d{1,2}月\d{1,2}日/, 'a local date, not epoch seconds');
    assert.match(await page.textContent('#dialect') ?? '', /浙江/);
    for (const plumbing of ['nonce', 'at_hash', 'iat', 'exp', 'aud']) assert.equal(await page.locator(`#claims tr[data-claim="${plumbing}"]`).count(), 0, plumbing);
    const names = await page.locator('#claims tr[data-claim]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-claim')));
    assert.equal(new Set(names).size, names.length, 'each field once');
    assert.equal(new URL(await page.getAttribute('#account', 'href') ?? '').href, `${demo.brokerUrl}/account`);
    await page.screenshot({ path: join(tmpdir(), 'tongban-demo-logged-in.png'), fullPage: true });

    // The portal calls the 上海 公积金 service with the person's access token for that service.
    await page.click('#service-0');
    await page.waitForSelector('#service-table');
    assert.match(await page.textContent('#service-heading') ?? '', /HTTP 200/, `service answer: ${await page.textContent('#service-answer')}`);
    assert.match(await page.textContent('#service-table') ?? '', /账户余额/);
    assert.equal(await page.locator('#service-answer').isVisible(), false, 'the raw JSON stays folded away');
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    assert.ok(width <= 1280, `no page wider than the window (${width}px)`);
  });

  it('steps up to a face check: no password again, level 4', async () => {
    await page.click('#login-face');
    await page.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    assert.equal(await page.locator('input[name="password"]').count(), 0, 'no password asked again');
    await page.click('form[action$="/face"] button');
    await page.waitForURL(atHome(hangzhou));
    assert.equal(await claim('acr'), 'urn:tongban:loa:4');
    assert.match(await page.textContent('#claims tr[data-claim="amr"]') ?? '', /人脸核验/);
  });

  it('signs in at the 上海 portal by single sign-on, in Shanghai\'s dialect with another sub', async () => {
    const hangzhouSub = await claim('sub');
    await page.click(`a[href="${shanghai}/"]`);
    await page.waitForURL(atHome(shanghai));
    await page.click('#login');
    await consentIfAsked(shanghai);
    assert.match(await page.textContent('#who') ?? '', /张三/);
    assert.ok(await claim('zwdtswUserId'), 'Shanghai dialect');
    assert.match(await page.textContent('#dialect') ?? '', /上海/);
    assert.notEqual(await claim('sub'), hangzhouSub);
  });

  it('signs out at the 上海 portal, the national platform too, and both portals ask for a login again', async () => {
    await page.click('#logout');
    await page.waitForURL((url) => url.href.startsWith(`${demo.brokerUrl}/session/end`));
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.href.startsWith(demo.simulatorUrl) && url.pathname.startsWith('/session/end'));
    await page.click('button[type="submit"]');
    await page.waitForURL(atHome(shanghai));
    assert.equal(await page.locator('#login').count(), 1);
    await page.goto(hangzhou);
    for (let waited = 0; await page.locator('#who').count() > 0 && waited < 5000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.reload();
    }
    assert.equal(await page.locator('#login').count(), 1, 'back-channel logout reached 杭州');
  });

  it('logs lisi in for a company: no company pre-selected, the chosen one shown', async () => {
    await page.goto(hangzhou);
    await page.click('#login-company');
    await signInNationally('lisi');
    await page.waitForURL((url) => url.href.startsWith(demo.brokerUrl) && url.pathname.endsWith('/company'));
    assert.equal(await page.locator('input[name="credit_code"]:checked').count(), 0, 'nothing pre-selected');
    await page.check(`input[name="credit_code"][value="${demoCompanies.suzhou.creditCode}"]`);
    await page.click('button[name="decision"][value="act"]');
    await consentIfAsked(hangzhou);
    assert.match(await page.textContent('#who') ?? '', new RegExp(`李四.*${demoCompanies.suzhou.name}`));
    assert.equal(await claim('unifiedSocialId'), demoCompanies.suzhou.creditCode);
  });

  it('switches to English and back, staying on the page', async () => {
    await page.goto(hangzhou);
    await page.click('#language-switch');
    await page.waitForURL(atHome(hangzhou));
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('#who') ?? '', /Hello/);
    assert.doesNotMatch(await page.textContent('main h2') ?? '', /[\u4e00-\u9fff]/);
    await page.click('#language-switch');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  });

  it('turns every dead end into a page with a way on: reload, tampered state, cancel', async () => {
    const fresh = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    // A callback with no login in progress (a reload, or Back to it).
    const reloaded = await fresh.goto(`${hangzhou}/callback?code=used&state=old`);
    assert.equal(reloaded?.status(), 400);
    assert.equal(await fresh.getAttribute('html', 'lang'), 'en');
    assert.match(await fresh.textContent('#dead-end') ?? '', /already used or has expired/);
    assert.equal(await fresh.locator('#sign-in-again').count(), 1);
    // A tampered state.
    await fresh.goto(`${hangzhou}/login`);
    await fresh.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    const tampered = await fresh.goto(`${hangzhou}/callback?code=x&state=tampered`);
    assert.equal(tampered?.status(), 400);
    assert.match(await fresh.textContent('#dead-end') ?? '', /check value/);
    // Cancel at the national login: one page, calm, with a way on.
    await fresh.goto(`${hangzhou}/login`);
    await fresh.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    await fresh.click('a[href$="/abort"]');
    // tongban may say first that the national login was not finished, then the portal, calmly.
    await fresh.waitForURL((url) => url.origin === hangzhou || url.origin === new URL(demo.brokerUrl).origin);
    if (new URL(fresh.url()).origin !== hangzhou) await fresh.click('#error-back');
    await fresh.waitForURL((url) => url.origin === hangzhou);
    assert.match(await fresh.textContent('h1') ?? '', /cancelled/);
    await fresh.click('#home');
    await fresh.waitForURL(atHome(hangzhou));
    await fresh.context().close();
  });

  it('shows a readable page, not a stack trace, for a forged callback', async () => {
    const fresh = await context.newPage();
    const response = await fresh.goto(`${demo.brokerUrl}/national/callback?state=forged&code=x`);
    assert.equal(response?.status(), 400);
    const text = await fresh.textContent('main') ?? '';
    assert.match(text, /upstream_state_mismatch/);
    assert.match(text, /国家政务服务平台/);
    await fresh.close();
  });

  it('after these logins the store file (npm start keeps it under data/) holds no readable name, ID number or phone (issue 13)', async () => {
    const file = demo.storeFile;
    const bytes = Buffer.concat([file, `${file}-wal`].filter((path) => existsSync(path)).map((path) => readFileSync(path)));
    assert.ok(bytes.includes(Buffer.from('tb1.international.')), 'sealed records are there: the logins were stored');
    const jsonEscaped = (value: string) => [...value].map((c) => (c.charCodeAt(0) > 0x7f ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
    const found = demoAccounts.filter((a) => a.username === 'zhangsan' || a.username === 'lisi')
      .flatMap((a) => [a.name, a.certNo, ...(a.phone ? [a.phone.replace('+86', '')] : [])])
      .filter((value) => bytes.includes(Buffer.from(value)) || bytes.includes(Buffer.from(jsonEscaped(value))));
    assert.deepEqual(found, []);
  });
});
