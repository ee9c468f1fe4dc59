/**
 * 材料免交 in a real headless Chromium (issue 16 item 4): at the demo 上海 公积金 service's
 * withdrawal desk a person signs in through tongban, consents to the ID card and 户口簿 licences, and
 * sees both verified (issuer, masked number, validity) and what they did not have to upload.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import type { Demo } from '../../scripts/dev/demo.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { maskNumber } from '../../scripts/dev/demo-service/index.ts';
import { startDemoFederation } from './demo-setup.ts';
import { launchChromium } from '../support/chromium.ts';

describe('材料免交 at the demo 公积金 service, in a real browser', function () {
  this.timeout(60_000);
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  let desk: string;

  before(async () => {
    demo = await startDemoFederation();
    desk = demo.deskUrl!;
    assert.ok(desk, 'config/demo.json configures the desk\'s client');
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } })).newPage();
    page.setDefaultTimeout(10_000);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('fetches the ID card and 户口簿 licences after consent, verifies them and says what was not uploaded', async () => {
    await page.goto(desk);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.match(await page.textContent('main') ?? '', /户口簿/);
    await page.click('#desk-login');
    await page.waitForURL((url) => url.href.startsWith(demo.simulatorUrl));
    await page.fill('input[name="username"]', 'zhaoliu');
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');
    // tongban's consent page: each licence its own box, ticked by the person.
    await page.waitForURL((url) => url.href.startsWith(demo.brokerUrl) && url.pathname.startsWith('/interaction/'));
    for (const scope of ['licence:id_card', 'licence:household_register']) {
      assert.equal(await page.locator(`input[name="sensitive"][value="${scope}"]`).count(), 1, scope);
    }
    await page.click('button[value="allow"]');
    await page.waitForURL((url) => url.origin === desk && url.pathname === '/');

    assert.equal(await page.locator('#licences [data-licence]').count(), 2);
    for (const type of ['id_card', 'household_register']) {
      const row = await page.textContent(`#licences [data-licence="${type}"]`) ?? '';
      assert.match(row, /上海市公安局/, `${type}: the issuing authority`);
      assert.match(row, /✓/, `${type}: verified`);
      assert.match(row, /\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}/, `${type}: validity`);
      assert.match(row, /\*{3,}/, `${type}: the number is masked`);
    }
    const notUploaded = await page.textContent('#not-uploaded') ?? '';
    assert.match(notUploaded, /身份证正反面照片/);
    assert.match(notUploaded, /户口簿首页和本人页复印件/);
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    assert.ok(width <= 390, `fits a phone (${width}px)`);
    await page.screenshot({ path: join(tmpdir(), 'tongban-demo-licences.png'), fullPage: true });

    await page.click('#language-switch');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('#not-uploaded') ?? '', /did not have to upload/);
  });

  it('masks a licence number to its first three and last two characters', () => {
    assert.equal(maskNumber('SFZ-310115-4681'), 'SFZ**********81');
    assert.equal(maskNumber('12345'), '*****');
  });

  it('turns a reloaded or tampered callback into a page with a way on', async () => {
    const reloaded = await page.goto(`${desk}/callback?code=x&state=y`);
    // zhaoliu is already served: a reload simply goes on to the result.
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(reloaded?.status(), 200);
    const fresh = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
    const answer = await fresh.goto(`${desk}/callback?code=x&state=y`);
    assert.equal(answer?.status(), 400);
    assert.match(await fresh.textContent('#dead-end') ?? '', /已经用过或已过期/);
    assert.equal(await fresh.locator('#sign-in-again').count(), 1);
    await fresh.context().close();
  });
});
