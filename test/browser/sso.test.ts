/**
 * One login, every province; one logout, everywhere — in a real headless Chromium. Three demo
 * portals (上海, 浙江, 江苏), each its own OIDC client with its own back-channel logout receiver, the
 * broker and the national-platform simulator, all on loopback. The portals ask for `phone`, a
 * sensitive item: each one's first sign-in shows the broker's consent page, which the person accepts.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, type Page } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createDemoPortal, type DemoPortal } from '../../scripts/dev/demo-portal/index.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { freePort, startFederation, type Federation } from '../support/federation.ts';
import { launchChromium } from '../support/chromium.ts';

const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

interface PortalSpec {
  readonly id: 'shanghai' | 'zhejiang' | 'jiangsu';
  readonly city: string;
  readonly title: string;
  base: string;
  portal?: DemoPortal;
  readonly logoutTokens: string[];
}

describe('single sign-on and single logout in a real browser', function () {
  this.timeout(60_000);
  let federation: Federation;
  let browser: Browser;
  let page: Page;
  let national: string;
  const portals: Record<PortalSpec['id'], PortalSpec> = {
    shanghai: { id: 'shanghai', city: '310000', title: '上海 一网通办（演示）', base: '', logoutTokens: [] },
    zhejiang: { id: 'zhejiang', city: '330100', title: '浙里办 杭州（演示）', base: '', logoutTokens: [] },
    jiangsu: { id: 'jiangsu', city: '320500', title: '江苏政务服务网 苏州（演示）', base: '', logoutTokens: [] },
  };
  /** Every URL the browser requested, redirects included. */
  const requested: string[] = [];
  /** Pages shown (navigations committed in the main frame). */
  const shown: string[] = [];

  const clientOf = (p: PortalSpec): ConfiguredClient => ({
    client_id: `${p.id}-portal`,
    client_secret: `${p.id}-portal-secret`,
    client_name: p.title,
    city: p.city,
    redirect_uris: [`${p.base}/callback`],
    post_logout_redirect_uris: [`${p.base}/`],
    backchannel_logout_uri: `${p.base}/backchannel-logout`,
    scope: 'openid profile phone',
    first_party: true,
  });

  before(async () => {
    for (const p of Object.values(portals)) p.base = `http://127.0.0.1:${await freePort()}`;
    federation = await startFederation({ clients: Object.values(portals).map(clientOf) });
    national = new URL(federation.simulator.url).origin;
    for (const p of Object.values(portals)) {
      const client = clientOf(p);
      p.portal = createDemoPortal({
        brokerIssuer: federation.issuer,
        clientId: client.client_id,
        clientSecret: client.client_secret!,
        baseUrl: p.base,
        port: Number(new URL(p.base).port),
        title: p.title,
        scope: client.scope!,
        cookieName: `${p.id}_portal_sid`,
        onLogoutToken: (token) => p.logoutTokens.push(token),
      });
      await p.portal.start();
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
    page.on('request', (request) => {
      if (request.isNavigationRequest()) requested.push(request.url());
    });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) shown.push(frame.url());
    });
  });
  after(async () => {
    await browser?.close();
    for (const p of Object.values(portals)) await p.portal?.stop();
    await federation?.stop();
  });

  const atPortalHome = (p: PortalSpec) => (url: URL) => url.origin === p.base && url.pathname === '/';
  const claim = async (name: string) => (await page.locator(`#claims tr[data-claim="${name}"] td.value`).textContent())?.trim();
  const nationalInteractions = (from: number) => shown.slice(from).filter((u) => u.startsWith(`${national}/interaction/`));
  const atConsent = (url: URL) => url.origin === new URL(federation.issuer).origin && url.pathname.startsWith('/interaction/');
  /** Arrives at the portal, accepting the broker's consent page (sensitive items) where it appears; whether it did. */
  const arriveAt = async (p: PortalSpec): Promise<boolean> => {
    await page.waitForURL((url) => atPortalHome(p)(url) || atConsent(url));
    if (!atConsent(new URL(page.url()))) return false;
    assert.equal(await page.locator('input[name="sensitive"][value="phone"]').count(), 1, 'the phone is asked separately');
    await page.click('button[name="decision"][value="allow"]');
    await page.waitForURL(atPortalHome(p));
    return true;
  };
  const sessions: Partial<Record<PortalSpec['id'], { sub: string; sid: string }>> = {};

  it('logs in at the Shanghai portal through the national platform', async () => {
    await page.goto(portals.shanghai.base);
    await page.click('#login');
    await page.waitForURL((url) => url.origin === national);
    await page.fill('input[name="username"]', 'zhangsan');
    await page.fill('input[name="password"]', demoPassword);
    await page.click('button[type="submit"]');
    assert.ok(await arriveAt(portals.shanghai), 'the first sign-in of the app asks consent for the phone');
    assert.match(await page.textContent('#who') ?? '', /张三/);
    assert.equal(await claim('acr'), 'urn:tongban:loa:3');
    assert.equal(await claim('zwdtswAuthLevel'), 'L3', 'Shanghai dialect');
    sessions.shanghai = { sub: (await claim('sub'))!, sid: (await claim('sid'))! };
  });

  it('opens the Zhejiang portal with no login form and a different sub', async () => {
    const from = requested.length;
    const shownFrom = shown.length;
    await page.goto(portals.zhejiang.base);
    await page.click('#login');
    await arriveAt(portals.zhejiang);
    assert.deepEqual(requested.slice(from).filter((u) => u.startsWith(national)), [], 'no request reached the national platform');
    assert.deepEqual(shown.slice(shownFrom).filter((u) => !u.startsWith(portals.zhejiang.base) && !atConsent(new URL(u))), [], 'no page other than the portal (and its consent) was shown');
    assert.match(await page.textContent('#who') ?? '', /张三/);
    const sub = (await claim('sub'))!;
    assert.notEqual(sub, sessions.shanghai!.sub);
    assert.equal(await claim('authlevel'), '3', 'Zhejiang dialect');
    sessions.zhejiang = { sub, sid: (await claim('sid'))! };
  });

  it('steps up at the Jiangsu portal with exactly one national re-authentication, a face check', async () => {
    const shownFrom = shown.length;
    const before = federation.simulator.sessionsOf('zhangsan');
    assert.equal(before.length, 1);
    await page.goto(`${portals.jiangsu.base}/login?acr_values=${encodeURIComponent('urn:tongban:loa:4')}`);
    await page.waitForURL((url) => url.origin === national);
    assert.equal(await page.locator('input[name="password"]').count(), 0, 'no password asked again');
    assert.equal(await page.locator('form[action$="/face"]').count(), 1);
    await page.click('form[action$="/face"] button');
    await arriveAt(portals.jiangsu);
    assert.equal(nationalInteractions(shownFrom).length, 1, 'one national page: the face check');
    assert.equal(await claim('acr'), 'urn:tongban:loa:4');
    assert.equal(await claim('authLevel'), '2', 'Jiangsu: 实人');
    const after = federation.simulator.sessionsOf('zhangsan');
    assert.equal(after.length, 1);
    assert.deepEqual(after[0]!.amr, ['pwd', 'face']);
    sessions.jiangsu = { sub: (await claim('sub'))!, sid: (await claim('sid'))! };
    assert.notEqual(sessions.jiangsu.sub, sessions.shanghai!.sub);
  });

  it('logs out at the Zhejiang portal: the other portals are told, and every portal asks for a login again', async () => {
    await page.goto(portals.zhejiang.base);
    await page.click('#logout');
    await page.waitForURL((url) => url.href.startsWith(`${federation.issuer}/session/end`));
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((url) => url.origin === national && url.pathname.startsWith('/session/end'));
    await page.click('button[type="submit"]');
    await page.waitForURL(atPortalHome(portals.zhejiang));
    assert.equal(await page.locator('#login').count(), 1);
    assert.deepEqual(federation.simulator.sessionsOf('zhangsan'), [], 'the national session has ended');

    const jwks = createRemoteJWKSet(new URL(`${federation.issuer}/jwks`));
    for (const id of ['shanghai', 'jiangsu'] as const) {
      const p = portals[id];
      for (let waited = 0; p.logoutTokens.length === 0 && waited < 5000; waited += 25) await sleep(25);
      assert.equal(p.logoutTokens.length, 1, `one logout token at ${id}`);
      const { payload } = await jwtVerify(p.logoutTokens[0]!, jwks, { issuer: federation.issuer, audience: `${id}-portal`, typ: 'logout+jwt', requiredClaims: ['iat', 'exp', 'jti'] });
      assert.deepEqual(payload.events, { [backchannelEvent]: {} });
      assert.equal('nonce' in payload, false);
      assert.equal(payload.sub, sessions[id]!.sub);
      assert.equal(payload.sid, sessions[id]!.sid);
    }

    // The portals' receivers refuse what is not a fresh, valid logout token.
    for (const logoutToken of ['not-a-token', portals.shanghai.logoutTokens[0]!]) {
      const refused = await fetch(`${portals.shanghai.base}/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: logoutToken }) });
      assert.equal(refused.status, 400);
    }

    for (const id of ['shanghai', 'jiangsu'] as const) {
      await page.goto(portals[id].base);
      assert.equal(await page.locator('#who').count(), 0, `${id} no longer knows the person`);
      assert.equal(await page.locator('#login').count(), 1);
    }
    await page.click('#login');
    await page.waitForURL((url) => url.origin === national);
    assert.equal(await page.locator('input[name="password"]').count(), 1, 'the next visit asks for a login');
  });
});
