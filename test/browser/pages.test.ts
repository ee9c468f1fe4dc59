/**
 * Every page a person can meet, in a real headless Chromium, in both languages and both display
 * modes (standard and 适老化) at a phone size and a desktop size: axe-core finds no serious or
 * critical WCAG 2.1 A/AA violation on any, each is in one language with the right `lang`, and a
 * screenshot of each lands in test-output/screenshots/ (untracked). One browser, one federation,
 * one context per combination walked once; axe reports violations only and screenshots are JPEG
 * views, so the whole walk stays well under two minutes.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../config/defaults.ts';
import { withPresentation, type DisplayMode, type Locale } from '../../broker/platform/i18n/index.ts';
import { describeError } from '../../broker/platform/errors.ts';
import { errorPage } from '../../broker/platform/pages/layout.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { authorizationRequest, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshots = join(process.cwd(), 'test-output', 'screenshots');
const sizes = [{ name: 'phone', width: 390, height: 844 }, { name: 'desktop', width: 1280, height: 900 }] as const;
const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const unserved = 'http://127.0.0.1:9';

const portal: ConfiguredClient = {
  client_id: 'pages-portal', client_secret: 'pages-portal-secret', client_name: '苏州企业服务门户', city: '320500',
  redirect_uris: [`${unserved}/portal/callback`], post_logout_redirect_uris: [`${unserved}/portal/`],
  scope: 'openid profile legal_person', first_party: true,
};
const thirdParty: ConfiguredClient = {
  client_id: 'pages-third-party', client_secret: 'pages-third-party-secret', client_name: '上海公积金查询', city: '310000',
  redirect_uris: [`${unserved}/third/callback`], scope: 'openid profile',
};
/** A Zhejiang service system on the legacy ticket API (test/flow/legacy.zhejiang.login.test.ts). */
const legacySystem: ConfiguredLegacySystem = {
  province: 'zhejiang', city: '330100', serviceCode: 'pages-hz-tax', name: '杭州办税', callbackUrl: `${unserved}/hz-tax/callback`,
  servicePassword: 'pages-hz-tax-service-password', scopes: ['profile', 'phone'],
};

interface Combination { readonly locale: Locale; readonly mode: DisplayMode }
const combinations: readonly Combination[] = [
  { locale: 'zh-CN', mode: 'standard' }, { locale: 'zh-CN', mode: 'elder' },
  { locale: 'en', mode: 'standard' }, { locale: 'en', mode: 'elder' },
];

describe('every page, both languages, both modes, phone and desktop (axe-core)', function () {
  // Generous for a loaded machine: the four walks share its cores (about a minute when idle).
  this.timeout(300_000);
  let federation: Federation;
  let browser: Browser;
  let axeSource: string;
  let portalRp: RelyingParty;
  let thirdRp: RelyingParty;
  const spent = { axe: 0, screenshots: 0, pages: 0 };

  before(async () => {
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await mkdir(screenshots, { recursive: true });
    federation = await startFederation({ clients: [portal, thirdParty], overrides: { legacySystems: [legacySystem] } });
    portalRp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    thirdRp = await relyingParty(federation.issuer, { clientId: thirdParty.client_id, clientSecret: thirdParty.client_secret!, redirectUri: thirdParty.redirect_uris[0]! });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
    await federation?.stop();
    if (spent.pages) console.log(`      ${spent.pages} page views: axe ${(spent.axe / 1000).toFixed(1)} s, screenshots ${(spent.screenshots / 1000).toFixed(1)} s`);
  });

  /**
   * Checks one page: its language, mode and switches, then at each size (the current one first:
   * one resize per page) axe-core (violations only) and a JPEG of the view. Returns the problems.
   */
  async function examine(page: Page, name: string, combination: Combination): Promise<string[]> {
    const where = `${name} (${combination.locale}, ${combination.mode})`;
    assert.equal(await page.getAttribute('html', 'lang'), combination.locale, `${where}: lang attribute`);
    assert.equal(await page.locator('html.elder').count(), combination.mode === 'elder' ? 1 : 0, `${where}: display mode`);
    assert.equal(await page.locator('nav.switches a').count(), 2, `${where}: language and display switches`);
    assert.equal(await page.locator('meta[name="viewport"]').count(), 1, `${where}: viewport meta tag`);
    const current = page.viewportSize()?.width === sizes[1].width ? [sizes[1], sizes[0]] : [sizes[0], sizes[1]];
    await page.addScriptTag({ content: axeSource });
    // axe-core at each size (the current one first: one resize per page), then a JPEG of the view.
    const violations: string[] = [];
    for (const [i, size] of current.entries()) {
      if (i > 0) await page.setViewportSize({ width: size.width, height: size.height });
      let started = Date.now();
      // Runs in the page, where axe-core defines `axe`; written as a string so the test needs no DOM types.
      const found = await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(wcagTags)} }, resultTypes: ['violations'] })
        .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => v.id + ' ' + JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))))`) as string[];
      violations.push(...found.map((v) => `${where} ${size.name}: ${v}`));
      spent.axe += Date.now() - started;
      started = Date.now();
      await page.screenshot({ path: join(screenshots, `${name}.${combination.locale}.${combination.mode}.${size.name}.jpg`), type: 'jpeg', quality: 60, animations: 'disabled', caret: 'initial' });
      spent.screenshots += Date.now() - started;
    }
    spent.pages += 1;
    return violations;
  }

  const atBroker = (path: string) => (url: URL) => url.href.startsWith(federation.issuer) && url.pathname.startsWith(path);

  /** The national login page's form, filled and sent. */
  async function signInNationally(page: Page, username: string): Promise<void> {
    await page.fill('input[name="username"]', username);
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');
  }

  /** One combination's walk through every page, in its own context (cookies, sessions). */
  async function walk(combination: Combination, index: number): Promise<void> {
    // Accept-Language says the other language: the switches' cookies and ui_locales must win.
    const context = await browser.newContext({ locale: combination.locale === 'en' ? 'zh-CN' : 'en-US', viewport: sizes[index % 2] });
    const page = await context.newPage();
    await page.route(`${unserved}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="en"><title>portal</title><p>portal callback</p></html>' }));
    const problems: string[] = [];
    const simulator = new URL(federation.simulator.url).origin;
    // The switches set both cookies and come back.
    await page.goto(`${federation.issuer}/preferences?lang=${combination.locale}&display=${combination.mode}&return=${encodeURIComponent('/account')}`);
    await page.waitForURL(atBroker('/account'));
    problems.push(...await examine(page, 'account-signed-out', combination));
    // The national simulator has its own display switch (scripts/dev/simulator/messages.ts); its
    // language comes with the login (ui_locales), so only the display mode is set here.
    await page.goto(`${simulator}/preferences?display=${combination.mode}&return=${encodeURIComponent('/.well-known/openid-configuration')}`);
    await page.waitForURL((url) => url.origin === simulator && url.pathname.startsWith('/.well-known/'));

    // Company login: the national login page (in the person's language, carried as ui_locales), then the company choice.
    await page.goto((await authorizationRequest(portalRp, { scope: 'openid profile legal_person' })).url.href);
    await page.waitForURL((url) => url.origin === simulator);
    assert.equal(new URL(page.url()).origin, simulator);
    problems.push(...await examine(page, 'national-login', combination));
    await signInNationally(page, 'lisi');
    await page.waitForURL((url) => url.href.startsWith(federation.issuer) && url.pathname.endsWith('/company'));
    problems.push(...await examine(page, 'company-choice', combination));
    await page.locator('input[name="credit_code"]').first().check();
    await page.click('button[value="act"]');
    // The company is a sensitive item: its separate consent, first-party app or not.
    await page.waitForURL((url) => url.href.startsWith(portalRp.redirectUri) || url.pathname.endsWith('/consent') || /^\/interaction\/[^/]+$/.test(url.pathname));
    if (!page.url().startsWith(portalRp.redirectUri)) {
      problems.push(...await examine(page, 'consent-sensitive', combination));
      await page.click('button[value="allow"]');
      await page.waitForURL((url) => url.href.startsWith(portalRp.redirectUri));
    }

    // The account page of a signed-in person.
    await page.goto(`${federation.issuer}/account`);
    problems.push(...await examine(page, 'account', combination));

    // Consent for an app that is not first-party; the language switch in the middle of it keeps the person there.
    await page.goto((await authorizationRequest(thirdRp)).url.href);
    await page.waitForURL(atBroker('/interaction/'));
    problems.push(...await examine(page, 'consent', combination));
    const consentUrl = page.url();
    await page.click('nav.switches a[hreflang]');
    await page.waitForURL(consentUrl);
    assert.notEqual(await page.getAttribute('html', 'lang'), combination.locale, 'the switch changed the language and came back to the consent');
    await page.click('nav.switches a[hreflang]');
    await page.waitForURL(consentUrl);
    await page.click('button[value="deny"]');
    await page.waitForURL((url) => url.href.startsWith(thirdRp.redirectUri) && url.searchParams.get('error') === 'access_denied');

    // Step-up that the person cannot reach (lisi's highest level is 3): its refusal page.
    await page.goto((await authorizationRequest(portalRp, { acr_values: 'urn:tongban:loa:4', prompt: 'login' })).url.href);
    await page.waitForURL((url) => url.origin === simulator);
    await signInNationally(page, 'lisi');
    await page.waitForURL((url) => url.href.startsWith(federation.issuer));
    assert.match(await page.locator('code').first().textContent() ?? '', /unmet_authentication_requirements/);
    problems.push(...await examine(page, 'error-assurance-unreachable', combination));

    // Sign-out: the broker's question, the national confirmation, the broker's signed-out page.
    await page.goto(`${federation.issuer}/session/end`);
    problems.push(...await examine(page, 'logout', combination));
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.origin === simulator && url.pathname.startsWith('/session/end'));
    problems.push(...await examine(page, 'national-logout', combination));
    await page.click('button[type="submit"]');
    await page.waitForURL(atBroker('/session/end/success'));
    problems.push(...await examine(page, 'signed-out', combination));

    // A person's login, then Back: the national login page is gone; its page says so in the
    // person's language and offers a way on (to the broker, the client it was for).
    await page.goto((await authorizationRequest(portalRp)).url.href);
    await page.waitForURL((url) => url.origin === simulator);
    await signInNationally(page, 'zhangsan');
    await page.waitForURL((url) => url.href.startsWith(portalRp.redirectUri));
    await page.goBack();
    await page.waitForURL((url) => url.origin === simulator && url.pathname.startsWith('/interaction/'));
    assert.equal(await page.locator('[role="alert"]#error-message').count(), 1, 'the expired login is announced');
    problems.push(...await examine(page, 'national-expired-login', combination));
    await page.click('a.way-on');
    await page.waitForURL(atBroker('/account'));
    assert.equal(await page.getAttribute('html', 'lang'), combination.locale, 'the way on keeps the language');

    // Legacy login (Zhejiang's sso/usp.do) of a signed-in person: the consent to its items (once per
    // person: consent is remembered across sessions), then its callback, which no server answers.
    // Straight there, Chromium refuses the unserved port and shows its error page: wait for that too.
    const ticketArrived = page.waitForRequest((request) => request.url().startsWith(legacySystem.callbackUrl));
    const settled = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() && !frame.url().startsWith(federation.issuer), timeout: 60_000 });
    await page.goto(`${federation.issuer}/zj/sso/usp.do?${new URLSearchParams({ action: 'ssoLogin', servicecode: legacySystem.serviceCode })}`).catch(() => undefined);
    if (atBroker('/interaction/')(new URL(page.url()))) {
      problems.push(...await examine(page, 'legacy-consent', combination));
      await page.click('button[value="allow"]');
    }
    assert.ok(new URL((await ticketArrived).url()).searchParams.get('ticket'), 'the legacy system gets its ticket');
    await settled;
    await page.goto(`${federation.issuer}/zj/sso/usp.do?${new URLSearchParams({ action: 'ssoLogin', servicecode: 'no-such-system' })}`);
    problems.push(...await examine(page, 'legacy-error-unknown-system', combination));

    // Step-up that works: the national face check, with the national session kept (no password).
    await page.goto((await authorizationRequest(portalRp, { acr_values: 'urn:tongban:loa:4' })).url.href);
    await page.waitForSelector('form[action$="/face"]');
    problems.push(...await examine(page, 'national-face-check', combination));

    // The errors a person can reach by address.
    const unknownApp = new URL((await authorizationRequest(portalRp)).url);
    unknownApp.searchParams.set('client_id', 'no-such-app');
    const wrongRedirect = new URL((await authorizationRequest(portalRp)).url);
    wrongRedirect.searchParams.set('redirect_uri', 'https://attacker.example/callback');
    const errorsByAddress: Array<[string, string, string]> = [
      ['error-unknown-app', unknownApp.href, 'invalid_client'],
      ['error-wrong-redirect', wrongRedirect.href, 'invalid_redirect_uri'],
      ['error-expired-login', `${federation.issuer}/interaction/expired-login-uid`, 'session_not_found'],
      ['error-replayed-callback', `${federation.issuer}/national/callback?code=replayed&state=replayed-state`, 'upstream_state_mismatch'],
    ];
    for (const [name, address, code] of errorsByAddress) {
      await page.goto(address);
      assert.match(await page.locator('.technical code').first().textContent({ timeout: 5000 }).catch(() => `no error page at ${page.url()}`) ?? '', new RegExp(code), name);
      assert.equal(await page.locator('[role="alert"] #error-message').count(), 1, `${name}: the error is announced`);
      assert.ok(await page.locator('#support-reference').count() === 1, `${name}: support reference`);
      problems.push(...await examine(page, name, combination));
    }

    // Errors that need a broken dependency, rendered exactly as the boundary renders them.
    const rendered: Array<[string, ReturnType<typeof describeError>]> = [
      ['error-national-down', describeError('upstream_unavailable')],
      ['error-store-down', describeError('store_unavailable')],
      ['error-rate-limited', describeError('too_many_requests', { retryAfterSeconds: 30 })],
      ['error-consent-refused', describeError('access_denied')],
    ];
    for (const [name, described] of rendered) {
      const html = withPresentation({ ...combination, returnTo: '/account', switchPath: '/preferences' }, () => errorPage({ ...described, reference: 'req-0000-example' }));
      await page.setContent(html);
      problems.push(...await examine(page, name, combination));
    }
    await context.close();
    assert.deepEqual(problems, []);
  }

  // The four walks run at once (one browser, a context each); each test waits for its own.
  const walks = new Map<Combination, Promise<void>>();
  for (const combination of combinations) {
    it(`walks the flows in ${combination.locale}, ${combination.mode} display`, async () => {
      for (const [i, c] of combinations.entries()) {
        if (walks.has(c)) continue;
        const walking = walk(c, i);
        walking.catch(() => undefined); // reported by its own test
        walks.set(c, walking);
      }
      await walks.get(combination);
    });
  }
});
