/**
 * What the broker keeps of a national login for legal persons: nothing for a person who may act
 * for no company at an app that did not ask for `legal_person`; the national entitlements for
 * anyone who may act for one. A legal-person app later in the same session still works: the
 * broker asks the national platform again, without a password.
 */
import assert from 'node:assert/strict';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, relyingParty, sessionUidOf, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { legalPersonRecordsOf } from '../support/sealed.ts';

const portal: ConfiguredClient = {
  client_id: 'ningbo-portal',
  client_secret: 'ningbo-portal-secret',
  client_name: '宁波门户',
  city: '330200',
  redirect_uris: ['http://127.0.0.1:9/ningbo-portal/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile legal_person',
  first_party: true,
};

async function visit(browser: Browser, rp: RelyingParty, scope: string, username?: string): Promise<Page> {
  const attempt = await authorizationRequest(rp, { scope });
  const stopAt = stopAtRedirectUri(rp);
  let page = await browser.follow(attempt.url, { stopAt });
  if (page.status === 200 && /name="password"/.test(page.body)) {
    assert.ok(username, 'the national login page was shown');
    page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
  }
  return page;
}

describe('legal-person records of a login', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  it('keeps nothing for a person who may act for no company; legal_person later asks the national platform silently', async () => {
    const browser = new Browser();
    const first = await visit(browser, rp, 'openid profile', 'zhangsan');
    assert.ok(first.location?.startsWith(rp.redirectUri), `reached the portal: ${first.status} ${first.url}`);
    const sessionUid = await sessionUidOf(federation, browser);
    assert.equal(await (await legalPersonRecordsOf(federation.store)).session(sessionUid), undefined);

    const second = await visit(browser, rp, 'openid profile legal_person');
    assert.ok(second.history.some((url) => url.startsWith(federation.simulator.url)), 'went by the national platform');
    assert.equal(second.status, 403);
    assert.match(second.body, /legal_person_none/);
    const record = await (await legalPersonRecordsOf(federation.store)).session(await sessionUidOf(federation, browser));
    assert.deepEqual(record?.representations, []);
  });

  it('keeps the entitlements of a person who may act for a company, even when the app did not ask', async () => {
    const browser = new Browser();
    const page = await visit(browser, rp, 'openid profile', 'lisi');
    assert.ok(page.location?.startsWith(rp.redirectUri), `reached the portal: ${page.status} ${page.url}`);
    const record = await (await legalPersonRecordsOf(federation.store)).session(await sessionUidOf(federation, browser));
    assert.ok(record && record.representations.length > 0);
  });
});
