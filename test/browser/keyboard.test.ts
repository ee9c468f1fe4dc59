/**
 * A keyboard-only walk in Chromium (no mouse, no `fill`, no `click`): the national login (Tab and
 * typing, Enter to send, a wrong password announced), the company choice (Space on a company) and
 * the sensitive-item consent (Space on its checkbox, Enter on 同意). Focus must start on the first
 * field or at the top of the page and then follow the page's reading order.
 */
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { authorizationRequest, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';

/** No server answers here: the request for the portal's callback is the arrival. */
const unserved = 'http://127.0.0.1:9';
const portal: ConfiguredClient = {
  client_id: 'keyboard-portal', client_secret: 'keyboard-portal-secret', client_name: '苏州企业服务门户', city: '320500',
  redirect_uris: [`${unserved}/portal/callback`], scope: 'openid profile legal_person', first_party: true,
};

/** What has the focus: tag, then name or id, then value, e.g. `input#username`, `button[value=act]`. */
function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return 'body';
    const tag = e.tagName.toLowerCase();
    if (e.id) return tag + '#' + e.id;
    if (tag === 'a') return 'a[' + (e.getAttribute('hreflang') ? 'hreflang' : e.className || e.getAttribute('href')) + ']';
    return tag + '[' + (e.getAttribute('name') || '') + '=' + (e.getAttribute('value') || '') + ']';
  })()`) as Promise<string>;
}

/** Presses Tab until `target` has the focus; returns every stop on the way, the target last. */
async function tabTo(page: Page, target: (stop: string) => boolean, limit = 12): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const stop = await focused(page);
    stops.push(stop);
    if (target(stop)) return stops;
  }
  assert.fail(`not reached by Tab within ${limit} stops: ${stops.join(' → ')}`);
}

describe('keyboard alone: national login, company choice, consent', function () {
  this.timeout(60_000);
  let federation: Federation;
  let browser: Browser;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('signs in as an agent and acts for a company with the keyboard only; errors are announced', async () => {
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const simulator = new URL(federation.simulator.url).origin;
    try {
      await page.goto((await authorizationRequest(rp, { scope: 'openid profile legal_person' })).url.href);
      await page.waitForURL((url) => url.origin === simulator);

      // The national login: the focus starts on the first field.
      assert.equal(await focused(page), 'input#username', 'first focus on the username');
      await page.keyboard.type('lisi');
      assert.deepEqual(await tabTo(page, (s) => s === 'input#password'), ['input#password']);
      await page.keyboard.type('not-the-password');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#login-error');
      // The error is in a live region, the field points at it, and the focus is back on the first field.
      assert.equal(await page.locator('[aria-live] #login-error').count(), 1, 'the error is in an aria-live region');
      assert.equal(await page.getAttribute('#username', 'aria-describedby'), 'login-error');
      assert.equal(await focused(page), 'input#username');
      await tabTo(page, (s) => s === 'input#password');
      await page.keyboard.type(demoPassword);
      await page.keyboard.press('Enter');

      // The company choice: past the header's two switches, the companies, then 继续.
      await page.waitForURL((url) => url.href.startsWith(federation.issuer) && url.pathname.endsWith('/company'));
      const toCompany = await tabTo(page, (s) => s.startsWith('input[credit_code='));
      assert.deepEqual(toCompany.slice(0, -1), ['a[hreflang]', `a[${await page.getAttribute('nav.switches a:not([hreflang])', 'href')}]`], 'the switches come first, then the choice');
      assert.equal(await page.locator('input[name="credit_code"]:checked').count(), 0, 'no company is pre-selected');
      await page.keyboard.press('Space');
      assert.equal(await page.locator('input[name="credit_code"]:checked').count(), 1, 'Space chooses the company');
      assert.deepEqual(await tabTo(page, (s) => s.startsWith('button[decision=act')), ['button[decision=act]']);
      // The portal's callback is not served: its request is the arrival.
      const portalReached = page.waitForRequest((request) => request.url().startsWith(rp.redirectUri));
      await page.keyboard.press('Enter');

      // The company's separate consent: Tab to its checkbox (Space twice: off, on), then Enter on 同意.
      const onConsent = await Promise.race([
        portalReached.then(() => false),
        page.waitForURL((url) => url.href.startsWith(federation.issuer) && /^\/interaction\/[^/]+(\/consent)?$/.test(url.pathname)).then(() => true, () => false),
      ]);
      if (onConsent) {
        const toBox = await tabTo(page, (s) => s.startsWith('input[sensitive='));
        assert.equal(toBox[0], 'a[hreflang]', 'the header comes first');
        const box = page.locator('input[name="sensitive"]').first();
        assert.equal(await box.isChecked(), true);
        await page.keyboard.press('Space');
        assert.equal(await box.isChecked(), false, 'Space unticks');
        await page.keyboard.press('Space');
        assert.equal(await box.isChecked(), true, 'Space ticks again');
        await tabTo(page, (s) => s === 'button[decision=allow]');
        await page.keyboard.press('Enter');
      }
      assert.ok(new URL((await portalReached).url()).searchParams.get('code'), 'the portal gets its code');
    } finally {
      await context.close();
    }
  });
});
