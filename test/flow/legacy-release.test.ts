/**
 * Releases to legacy ticket systems are recorded like OIDC ones (issue 13, items 2 and 4): the
 * audit trail names the system, the items, the person as the province's `sub` and the consent
 * record the release stood on; `/account` lists the system; no value reaches the trail.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../config/defaults.ts';
import { Browser, parseForm } from '../support/browser.ts';
import { acceptConsent, login, relyingParty, startFederation, type Federation } from '../support/federation.ts';
import { demoAccounts, demoPassword } from '../../scripts/dev/simulator/index.ts';

const unserved = 'http://127.0.0.1:9';
const suzhouFund: ConfiguredLegacySystem = {
  province: 'jiangsu',
  city: '320500',
  serviceCode: 'release-sz-gjj',
  name: '苏州公积金',
  callbackUrl: `${unserved}/release-sz-gjj/callback`,
  servicePassword: 'release-sz-gjj-app-secret-2027',
  scopes: ['profile', 'phone', 'id_number'],
};
/** An OIDC app of the same province: its `sub` is the person's Jiangsu `sub`. */
const suzhouPortal: ConfiguredClient = {
  client_id: 'release-suzhou-portal',
  client_secret: 'release-suzhou-portal-secret',
  city: '320500',
  redirect_uris: [`${unserved}/release/suzhou`],
  scope: 'openid profile',
  first_party: true,
};
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('releases to legacy ticket systems in the release record and the audit trail', function () {
  this.timeout(30_000);
  let federation: Federation;

  before(async () => {
    federation = await startFederation({ clients: [suzhouPortal], overrides: { legacySystems: [suzhouFund] } });
  });
  after(async () => federation?.stop());

  it('a ticket redeemed by a system is noted with the system, the items, the province sub and the consent record', async () => {
    const browser = new Browser();
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    let page = await browser.follow(`${federation.issuer}/js/auth/login.do?${new URLSearchParams({ app_id: suzhouFund.serviceCode })}`, { stopAt });
    if (page.status === 200 && /name="password"/.test(page.body)) {
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: demoPassword }, { stopAt });
    }
    assert.match(page.body, /name="sensitive" value="id_number"/, 'the bridge asks the same consent');
    page = await acceptConsent(browser, page, stopAt);
    const ticket = new URL(page.location!).searchParams.get('ticket')!;
    const timestamp = String(Date.now());
    const response = await fetch(`${federation.issuer}/js/auth/ticketValidate.do`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ app_id: suzhouFund.serviceCode, timestamp, app_sign: md5(suzhouFund.serviceCode + suzhouFund.servicePassword + timestamp), ticket }).toString(),
    });
    const answer = await response.json() as { code: string; data?: Record<string, unknown> };
    assert.equal(answer.code, '0');
    assert.ok(answer.data!.papersNumber, 'the ID number was released');

    const entries = await federation.broker.audit.list({ type: 'release', client: `legacy:jiangsu:${suzhouFund.serviceCode}` });
    assert.equal(entries.length, 1, 'one release, one entry');
    const entry = entries[0]!;
    assert.equal(entry.action, 'legacy.release');
    assert.deepEqual(entry.details?.items, ['id_number', 'phone']);
    assert.equal(entry.details?.use, 'legacy_ticket');
    assert.match(String(entry.details?.consent), /^[0-9a-f-]{36}$/, 'under which consent record');
    const trail = JSON.stringify(entries);
    for (const value of [answer.data!.papersNumber, answer.data!.mobile, answer.data!.realName]) assert.ok(!trail.includes(String(value)), 'no value in the trail');

    // The person as the province knows them: the same `sub` a Jiangsu app receives.
    const rp = await relyingParty(federation.issuer, { clientId: suzhouPortal.client_id, clientSecret: suzhouPortal.client_secret!, redirectUri: suzhouPortal.redirect_uris[0]! });
    const { tokens } = await login(browser, rp, undefined);
    assert.equal(entry.subject, tokens.claims()!.sub);

    const account = await browser.get(`${federation.issuer}/account`);
    assert.match(account.body, new RegExp(`data-client="legacy:jiangsu:${suzhouFund.serviceCode}">苏州公积金`), 'the system is listed by its name');
    assert.match(account.body, /data-province="320000"/);
  });

  it('a person who refuses the sensitive items at the bridge still signs in; the system gets neither, and no release is recorded', async () => {
    const zhaoliu = demoAccounts.find((a) => a.username === 'zhaoliu')!;
    const client = `legacy:jiangsu:${suzhouFund.serviceCode}`;
    const before = (await federation.broker.audit.list({ type: 'release', client })).length;
    const browser = new Browser();
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    let page = await browser.follow(`${federation.issuer}/js/auth/login.do?${new URLSearchParams({ app_id: suzhouFund.serviceCode })}`, { stopAt });
    page = await browser.submitForm(page.body, page.url, { username: zhaoliu.username, password: demoPassword }, { stopAt });
    assert.match(page.body, /name="sensitive" value="id_number"/, 'the bridge asks');
    // Every sensitive box unticked, and "allow": the rest of the sign-in goes on.
    const form = parseForm(page.body, page.url);
    page = await browser.follow(form.action, { method: 'POST', body: new URLSearchParams({ decision: 'allow' }), stopAt });
    const ticket = new URL(page.location!).searchParams.get('ticket');
    assert.ok(ticket, `a ticket: ${page.status} ${page.url}`);
    const timestamp = String(Date.now());
    const response = await fetch(`${federation.issuer}/js/auth/ticketValidate.do`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ app_id: suzhouFund.serviceCode, timestamp, app_sign: md5(suzhouFund.serviceCode + suzhouFund.servicePassword + timestamp), ticket }).toString(),
    });
    const text = await response.text();
    const answer = JSON.parse(text) as { code: string; data?: Record<string, unknown> };
    assert.equal(answer.code, '0', text);
    assert.ok(!answer.data!.papersNumber && !answer.data!.mobile, `refused items absent: ${text}`);
    assert.equal(answer.data!.realName, zhaoliu.name, 'the ordinary items still reach the system');
    assert.ok(!text.includes(zhaoliu.certNo) && !text.includes(zhaoliu.phone!.replace('+86', '')), 'no ID number or phone in the answer');
    assert.equal((await federation.broker.audit.list({ type: 'release', client })).length, before, 'nothing sensitive released, nothing recorded');
  });
});
