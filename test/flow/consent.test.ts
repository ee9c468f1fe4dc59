/**
 * Separate consent for sensitive items (issue 13, item 2): the ID number, the phone and the company
 * credit code need the person's own consent, first-party apps included; each may be refused while
 * the sign-in goes on; the choice is kept per app across sessions (a sign-in after a sign-out asks
 * nothing more), `prompt=none` never releases an item not yet consented, and a withdrawal on /account
 * applies from the next token and makes the next sign-in ask again. /account lists only apps that
 * really received tokens, with the items and when (item 4). Each scenario has its own app: the
 * person's answers to one app are remembered for the whole run.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createReleaseLog } from '../../broker/release/release-log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { Browser, parseForm } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';

const unserved = 'http://127.0.0.1:9';
/** First-party, entitled to ID numbers, states a purpose for the ID number only. */
const hangzhouPortal: ConfiguredClient = {
  client_id: 'consent-hangzhou-portal',
  client_secret: 'consent-hangzhou-portal-secret',
  client_name: '杭州办事大厅',
  city: '330100',
  redirect_uris: [`${unserved}/consent/hangzhou`],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile phone id_number',
  first_party: true,
  purposes: { id_number: '核验办事人身份以办理社保业务' },
};
/** The same kind of app again, for a scenario that must not meet the answers given to another. */
const hangzhouApp = (name: string): ConfiguredClient => ({
  ...hangzhouPortal,
  client_id: `${hangzhouPortal.client_id}-${name}`,
  client_secret: `${hangzhouPortal.client_secret}-${name}`,
  redirect_uris: [`${unserved}/consent/hangzhou-${name}`],
});
const silentApp = hangzhouApp('silent');
const accountApp = hangzhouApp('account');
const rememberingApp = hangzhouApp('remembering');
const withdrawingApp = hangzhouApp('withdrawing');
/** Not first-party: asks consent for everything. */
const shanghaiService: ConfiguredClient = {
  client_id: 'consent-shanghai-service',
  client_secret: 'consent-shanghai-service-secret',
  city: '310100',
  redirect_uris: [`${unserved}/consent/shanghai`],
  scope: 'openid profile phone',
};

describe('separate consent for sensitive items', function () {
  this.timeout(30_000);
  let federation: Federation;
  let portal: RelyingParty;
  let service: RelyingParty;
  const apps: Record<string, RelyingParty> = {};
  const rpOf = (client: ConfiguredClient) => relyingParty(federation.issuer, { clientId: client.client_id, clientSecret: client.client_secret!, redirectUri: client.redirect_uris[0]! });

  before(async () => {
    federation = await startFederation({ clients: [hangzhouPortal, shanghaiService, silentApp, accountApp, rememberingApp, withdrawingApp] });
    portal = await rpOf(hangzhouPortal);
    service = await rpOf(shanghaiService);
    for (const app of [silentApp, accountApp, rememberingApp, withdrawingApp]) apps[app.client_id] = await rpOf(app);
  });
  after(async () => federation?.stop());

  /** Follows an authorization request through the national login; stops at consent or the RP. */
  async function untilConsent(browser: Browser, rp: RelyingParty, params: Record<string, string>) {
    const attempt = await authorizationRequest(rp, params);
    const stopAt = stopAtRedirectUri(rp);
    let page = await browser.follow(attempt.url, { stopAt });
    for (let step = 0; step < 4 && !page.location && /name="password"/.test(page.body); step += 1) {
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: demoPassword }, { stopAt });
    }
    return { attempt, page };
  }

  /** Submits the consent form with exactly the sensitive boxes given ticked. */
  async function answer(browser: Browser, rp: RelyingParty, page: { body: string; url: string }, ticked: string[], decision = 'allow') {
    const form = parseForm(page.body, page.url);
    const data = new URLSearchParams();
    for (const scope of ticked) data.append('sensitive', scope);
    data.append('decision', decision);
    return browser.follow(form.action, { method: 'POST', body: data, stopAt: stopAtRedirectUri(rp) });
  }

  async function redeem(rp: RelyingParty, attempt: Awaited<ReturnType<typeof authorizationRequest>>, location: string) {
    return oidc.authorizationCodeGrant(rp.config, new URL(location), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
  }

  it('a first-party app asking only for ordinary items still skips consent', async () => {
    const browser = new Browser();
    const { page } = await untilConsent(browser, portal, { scope: 'openid profile' });
    assert.ok(page.location?.startsWith(portal.redirectUri), `no consent page: ${page.status} ${page.url}`);
  });

  it('asks a first-party app\'s sensitive items on a page naming the app, its city, the person, each item and its purpose', async () => {
    const browser = new Browser();
    const { page } = await untilConsent(browser, portal, { scope: 'openid profile phone id_number' });
    assert.equal(page.status, 200, `a consent page: ${page.status} ${page.url}`);
    assert.match(page.body, /授权确认/);
    assert.match(page.body, /id="app">杭州办事大厅</);
    assert.match(page.body, /id="city">杭州</);
    assert.match(page.body, /<strong>张三<\/strong>/, 'the person the consent is about');
    assert.match(page.body, /name="sensitive" value="id_number"/);
    assert.match(page.body, /name="sensitive" value="phone"/);
    assert.match(page.body, /核验办事人身份以办理社保业务/, 'the purpose registered for the ID number');
    assert.match(page.body, /data-scope="phone"[\s\S]*?未说明用途/, 'the fallback where no purpose was stated');
    assert.match(page.body, /同一省份的所有应用共用/, 'identifiers are shared by the province');
    assert.doesNotMatch(page.body, /您在本应用中的匿名标识/);
    assert.doesNotMatch(page.body, /name="sensitive" value="profile"/, 'ordinary items are not asked separately');
  });

  it('the person refuses the ID number, signs in with the rest, and the choice is remembered for the app', async () => {
    const browser = new Browser();
    const { attempt, page } = await untilConsent(browser, portal, { scope: 'openid profile phone id_number' });
    const back = await answer(browser, portal, page, ['phone']);
    assert.ok(back.location?.startsWith(portal.redirectUri), `signed in: ${back.status} ${back.url}`);
    const tokens = await redeem(portal, attempt, back.location!);
    const scopes = (tokens.scope ?? '').split(' ');
    assert.ok(scopes.includes('phone') && scopes.includes('profile'));
    assert.ok(!scopes.includes('id_number'), `no id_number in ${tokens.scope}`);
    const claims = tokens.claims()!;
    assert.equal(claims.idnum, undefined);
    assert.equal(claims.certKey, undefined);
    const info = await oidc.fetchUserInfo(portal.config, tokens.access_token, claims.sub);
    assert.ok(info.phone_number, 'the phone was consented');
    assert.equal(info.idnum, undefined, 'the refused ID number is not released');

    // The same app again, prompt=none: the grant remembers both answers, nothing is asked.
    const again = await untilConsent(browser, portal, { scope: 'openid profile phone id_number', prompt: 'none' });
    assert.ok(again.page.location?.startsWith(portal.redirectUri));
    const callback = new URL(again.page.location!);
    assert.ok(callback.searchParams.get('code'), `a code: ${callback.search}`);
    const second = await redeem(portal, again.attempt, again.page.location!);
    assert.ok(!(second.scope ?? '').split(' ').includes('id_number'));
  });

  it('prompt=none never releases a sensitive item not yet consented: consent_required', async () => {
    const browser = new Browser();
    const app = apps[silentApp.client_id]!;
    const first = await untilConsent(browser, app, { scope: 'openid profile' });
    assert.ok(first.page.location?.startsWith(app.redirectUri));
    const silent = await untilConsent(browser, app, { scope: 'openid profile id_number', prompt: 'none' });
    const callback = new URL(silent.page.location!);
    assert.equal(callback.searchParams.get('error'), 'consent_required');
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('an app that is not first-party shows the same separate choice, and a denial reaches no app', async () => {
    const browser = new Browser();
    const { page } = await untilConsent(browser, service, { scope: 'openid profile phone' });
    assert.match(page.body, /name="sensitive" value="phone"/);
    assert.match(page.body, /id="city">上海</);
    const denied = await answer(browser, service, page, [], 'deny');
    assert.equal(new URL(denied.location!).searchParams.get('error'), 'access_denied');
    const account = await browser.get(`${federation.issuer}/account`);
    assert.doesNotMatch(account.body, new RegExp(`data-client="${shanghaiService.client_id}"`), 'a refused app received nothing');
  });

  it('/account lists what each app received and when; withdrawing applies from the next token', async () => {
    const browser = new Browser();
    const portal = apps[accountApp.client_id]!;
    const hangzhouPortal = accountApp;
    const { attempt, page } = await untilConsent(browser, portal, { scope: 'openid profile phone id_number' });
    const back = await answer(browser, portal, page, ['phone', 'id_number']);
    const tokens = await redeem(portal, attempt, back.location!);
    assert.ok(tokens.claims()!.idnum, 'the ID number was consented');
    assert.ok(tokens.refresh_token);
    // The release is in the broker's audit trail: the app, the items, the app's sub; no value.
    const entries = await federation.broker.audit.list({ type: 'release', client: hangzhouPortal.client_id });
    const entry = entries.find((e) => e.subject === tokens.claims()!.sub && (e.details?.items as string[] | undefined)?.includes('id_number'));
    assert.ok(entry, 'the release of the ID number is recorded');
    assert.ok(!JSON.stringify(entries).includes(String(tokens.claims()!.idnum)), 'no ID number in the trail');

    let account = await browser.get(`${federation.issuer}/account`);
    assert.match(account.body, new RegExp(`data-client="${hangzhouPortal.client_id}"`));
    assert.match(account.body, /data-item="id_number"/);
    assert.match(account.body, /data-item="phone"/);
    assert.match(account.body, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'when');
    assert.match(account.body, /撤回/);
    assert.doesNotMatch(account.body, /张三/, 'no personal data needed on the page');

    account = await browser.submitForm(account.body, account.url, {}, { form: `withdraw-${hangzhouPortal.client_id}` });
    assert.equal(new URL(account.url).pathname, '/account', 'back on the account page');
    // Other apps of this person (earlier scenarios, other sessions) keep theirs: remembered per app.
    assert.doesNotMatch(account.body, new RegExp(`id="withdraw-${hangzhouPortal.client_id}"`), 'nothing left to withdraw');

    const refreshed = await oidc.refreshTokenGrant(portal.config, tokens.refresh_token!);
    assert.ok(!(refreshed.scope ?? '').split(' ').includes('id_number'), `withdrawn: ${refreshed.scope}`);
    assert.equal(refreshed.claims()?.idnum, undefined, 'the new ID token has no ID number');
    const info = await oidc.fetchUserInfo(portal.config, refreshed.access_token, tokens.claims()!.sub);
    assert.equal(info.idnum, undefined);
    assert.equal(info.phone_number, undefined);
    const old = await oidc.fetchUserInfo(portal.config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(old.idnum, undefined, 'userinfo with the earlier access token no longer releases it either');
    assert.ok(old.name, 'ordinary items stay');
  });

  /** Signs out everywhere from /account (the broker session and the national one). */
  async function signOut(browser: Browser) {
    let page = await browser.get(`${federation.issuer}/account`);
    page = await browser.submitForm(page.body, page.url, { logout: 'yes' }, { form: 'logout-everywhere' });
    for (let step = 0; step < 4 && page.status === 200 && /<form/i.test(page.body) && !/id="signed-out"/.test(page.body); step += 1) {
      page = await browser.submitForm(page.body, page.url, { logout: 'yes' });
    }
    const account = await browser.get(`${federation.issuer}/account`);
    assert.match(account.body, /id="signed-out"/, 'signed out');
  }

  it('a sign-in after a sign-out uses the answers remembered for the app: no consent page, items as chosen', async () => {
    const browser = new Browser();
    const app = apps[rememberingApp.client_id]!;
    const scope = 'openid profile phone id_number';
    const first = await untilConsent(browser, app, { scope });
    assert.equal(first.page.status, 200, 'the first sign-in asks');
    const back = await answer(browser, app, first.page, ['id_number']);
    const tokens = await redeem(app, first.attempt, back.location!);
    assert.ok(tokens.claims()!.idnum, 'the ID number was consented');
    const entries = await federation.broker.audit.list({ type: 'release', client: rememberingApp.client_id });
    const consent = entries.find((e) => (e.details?.items as string[] | undefined)?.includes('id_number'))?.details?.consent;
    assert.match(String(consent), /^[0-9a-f-]{36}$/, 'the release names the consent record it stood on');

    await signOut(browser);
    const again = await untilConsent(browser, app, { scope });
    assert.ok(again.page.location?.startsWith(app.redirectUri), `no consent page: ${again.page.status} ${again.page.url}`);
    const second = await redeem(app, again.attempt, again.page.location!);
    const scopes = (second.scope ?? '').split(' ');
    assert.ok(scopes.includes('id_number') && !scopes.includes('phone'), `as chosen: ${second.scope}`);
    assert.equal(second.claims()!.idnum, tokens.claims()!.idnum);
    const info = await oidc.fetchUserInfo(app.config, second.access_token, second.claims()!.sub);
    assert.equal(info.phone_number, undefined, 'the refused phone stays refused');
    const later = await federation.broker.audit.list({ type: 'release', client: rememberingApp.client_id });
    assert.ok(later.length > entries.length && later.slice(entries.length).every((e) => e.details?.consent === consent), 'the same consent record');

    // prompt=none works in the new session: every sensitive item asked was decided before.
    const silent = await untilConsent(browser, app, { scope, prompt: 'none' });
    assert.ok(new URL(silent.page.location!).searchParams.get('code'), `a code: ${silent.page.location}`);
  });

  it('a withdrawal on /account reaches the next token, and the next sign-in asks again', async () => {
    const browser = new Browser();
    const app = apps[withdrawingApp.client_id]!;
    const scope = 'openid profile phone id_number';
    const first = await untilConsent(browser, app, { scope });
    await redeem(app, first.attempt, (await answer(browser, app, first.page, ['phone', 'id_number'])).location!);
    await signOut(browser);
    const again = await untilConsent(browser, app, { scope });
    assert.ok(again.page.location?.startsWith(app.redirectUri), 'remembered: no consent page');
    const tokens = await redeem(app, again.attempt, again.page.location!);
    assert.ok(tokens.claims()!.idnum && tokens.refresh_token);

    const account = await browser.get(`${federation.issuer}/account`);
    const after = await browser.submitForm(account.body, account.url, {}, { form: `withdraw-${withdrawingApp.client_id}` });
    assert.doesNotMatch(after.body, new RegExp(`id="withdraw-${withdrawingApp.client_id}"`));
    const refreshed = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!);
    assert.equal(refreshed.claims()?.idnum, undefined, 'the next token lacks the ID number');
    const info = await oidc.fetchUserInfo(app.config, refreshed.access_token, tokens.claims()!.sub);
    assert.equal(info.phone_number, undefined, 'and the phone');

    await signOut(browser);
    const next = await untilConsent(browser, app, { scope });
    assert.equal(next.page.status, 200, `the next sign-in asks again: ${next.page.url}`);
    assert.match(next.page.body, /name="sensitive" value="id_number"/);
    assert.match(next.page.body, /name="sensitive" value="phone"/);
  });

  it('records a release of a sensitive item in the audit trail by the app\'s sub, never a value', async () => {
    const store = await createStore('memory:', { namespace: 'release-log' });
    const appended: unknown[] = [];
    const log = createReleaseLog({ store, ttlSeconds: 60, audit: { append: async (r) => appended.push(r) }, now: () => 1_800_000_000 });
    await log.record({ accountId: 'acc-1', clientId: 'app-1', subject: 'sub-1', scopes: ['openid', 'profile'], use: 'id_token' });
    assert.equal(appended.length, 0, 'ordinary items are noted for /account only');
    await log.record({ accountId: 'acc-1', clientId: 'app-1', subject: 'sub-1', scopes: ['openid', 'id_number'], use: 'userinfo', grantId: 'g-1' });
    assert.deepEqual(appended, [{ type: 'release', action: 'claims.release', client: 'app-1', subject: 'sub-1', details: { items: ['id_number'], use: 'userinfo', grant: 'g-1' } }]);
    assert.deepEqual(await log.list('acc-1'), [{ clientId: 'app-1', items: ['openid', 'profile', 'id_number'], first: 1_800_000_000, last: 1_800_000_000 }]);
    await store.close();
  });
});
