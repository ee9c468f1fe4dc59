/**
 * Issue 13, bad input, for the legal-person records (the national access token, the companies):
 * when they no longer open, userinfo and refresh answer with OAuth errors, a log line names the key
 * id, no credit code or company name leaks, and the broker goes on serving. The identity record's
 * case is test/flow/unsealable-record.test.ts.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { listSealedRecords } from '../../broker/platform/crypto/sealed-index.ts';
import { demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';

const portal: ConfiguredClient = {
  client_id: 'unsealable-company-portal',
  client_secret: 'unsealable-company-portal-secret',
  client_name: '嘉兴企业服务',
  city: '330400',
  redirect_uris: ['http://127.0.0.1:9/unsealable-company/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile legal_person offline_access',
  first_party: true,
};

interface SealedRecord { sealed: string; context: string; expiresAt: number | null }

describe('legal-person records that do not open', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  it('userinfo and refresh answer OAuth errors naming no company, a log line names the key id, the broker serves on', async () => {
    const browser = new Browser();
    const attempt = await authorizationRequest(rp, { scope: 'openid profile legal_person offline_access' });
    const stopAt = stopAtRedirectUri(rp);
    let page: Page = await browser.follow(attempt.url, { stopAt });
    for (let step = 0; step < 6 && !page.location?.startsWith(rp.redirectUri) && page.status === 200 && /<form/i.test(page.body); step += 1) {
      if (/name="password"/.test(page.body)) page = await browser.submitForm(page.body, page.url, { username: 'lisi', password: demoPassword }, { stopAt });
      else if (/name="credit_code"/.test(page.body)) page = await browser.submitForm(page.body, page.url, { credit_code: demoCompanies.jiaxing.creditCode }, { stopAt });
      else page = await browser.submitForm(page.body, page.url, {}, { stopAt });
    }
    assert.ok(page.location?.startsWith(rp.redirectUri), `reached the app: ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    assert.ok(JSON.stringify(tokens.claims()).includes(demoCompanies.jiaxing.creditCode), 'the company was released');
    assert.ok(tokens.refresh_token);

    // Every legal-person record of the store, one byte changed.
    const keys = [...(await listSealedRecords(federation.store)).keys()].filter((key) => key.startsWith('legal-person:'));
    assert.ok(keys.length > 0, 'legal-person records are sealed and indexed');
    const keyIds = new Set<string>();
    for (const key of keys) {
      const record = await federation.store.get<SealedRecord>(key);
      if (!record) continue;
      keyIds.add(record.sealed.split('.')[2]!);
      const tail = record.sealed.slice(-6);
      await federation.store.set(key, { ...record, sealed: `${record.sealed.slice(0, -6)}${tail[0] === 'A' ? 'B' : 'A'}${tail.slice(1)}` }, 600_000);
    }

    const secrets = new RegExp(`${demoCompanies.jiaxing.creditCode}|${demoCompanies.jiaxing.name}|李四`);
    const info = await fetch(`${federation.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const body = await info.text();
    assert.ok(info.status >= 400, `userinfo refused: ${info.status} ${body}`);
    assert.equal(typeof (JSON.parse(body) as { error?: unknown }).error, 'string', `an OAuth error: ${body}`);
    assert.doesNotMatch(body, secrets, 'no partial record');

    const refresh = await fetch(`${federation.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${portal.client_id}:${portal.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString(),
    });
    const refreshBody = await refresh.text();
    assert.ok(refresh.status >= 400, `refresh refused: ${refresh.status} ${refreshBody}`);
    assert.equal(typeof (JSON.parse(refreshBody) as { error?: unknown }).error, 'string', `an OAuth error: ${refreshBody}`);
    assert.doesNotMatch(refreshBody, secrets);

    const logged = federation.logger.lines.filter((line) => line.reason === 'RecordUnsealableError');
    assert.ok(logged.length >= 2 && logged.every((line) => keyIds.has(String(line.keyId))), `log lines with the key id: ${JSON.stringify(logged)}`);
    assert.doesNotMatch(JSON.stringify(federation.logger.lines), secrets, 'no company or person in the logs');
    assert.equal((await fetch(`${federation.issuer}/healthz`)).status, 200);
  });
});
