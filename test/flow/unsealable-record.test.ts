/**
 * Issue 13, bad input: a sealed record that fails to open (a changed byte, a lost data key) is an
 * OAuth error at userinfo and an error page in the interaction, with a log line naming the key id;
 * never a crash, never a partial identity.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizationRequest, browse, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const portal: ConfiguredClient = {
  client_id: 'unsealable-portal',
  client_secret: 'unsealable-portal-secret',
  client_name: '杭州办事大厅',
  city: '330100',
  redirect_uris: ['http://127.0.0.1:9/unsealable/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile phone id_number offline_access',
  first_party: true,
};

interface SealedRecord { sealed: string; context: string; expiresAt: number | null }

describe('a sealed record that does not open', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  async function toApp(browser: Browser, params: Record<string, string>): Promise<{ page: Page; attempt: Awaited<ReturnType<typeof authorizationRequest>> }> {
    const attempt = await authorizationRequest(rp, params);
    return { page: await browse(browser, rp, attempt, 'zhangsan'), attempt };
  }

  it('answers userinfo with an OAuth error and the interaction with an error page, and logs the key id', async () => {
    const browser = new Browser();
    const { page, attempt } = await toApp(browser, { scope: 'openid profile phone id_number offline_access', prompt: 'consent' });
    assert.ok(page.location?.startsWith(rp.redirectUri), `reached the app: ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    const cookie = browser.jar.get('tongban_session');
    const session = await federation.broker.provider.Session.find(cookie!.value);
    const key = `identity:${session!.accountId}`;
    const record = await federation.store.get<SealedRecord>(key);
    if (!record) assert.fail('the identity record is in the store');
    assert.ok(record.sealed.startsWith('tb1.'), 'the identity record is sealed');
    const keyId = record.sealed.split('.')[2]!;
    // One byte of the ciphertext changed, as a damaged copy or a tampering would.
    const tail = record.sealed.slice(-6);
    const changed = `${record.sealed.slice(0, -6)}${tail[0] === 'A' ? 'B' : 'A'}${tail.slice(1)}`;
    await federation.store.set(key, { ...record, sealed: changed }, 600_000);

    const info = await fetch(`${federation.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const body = await info.text();
    assert.ok(info.status >= 400, `userinfo refused: ${info.status}`);
    const answer = JSON.parse(body) as { error?: string };
    assert.equal(typeof answer.error, 'string', `an OAuth error: ${body}`);
    assert.doesNotMatch(body, /张三|330106198504121356|13900000001/, 'no partial identity');
    const logged = federation.logger.lines.filter((e) => e.event === 'identity_record_unsealable' || e.msg === 'identity_record_unsealable');
    assert.ok(logged.some((e) => e.keyId === keyId), `a log line with the key id: ${JSON.stringify(logged)}`);

    // The consent page names the person: it reads the record, and shows an error page instead.
    const again = await toApp(browser, { scope: 'openid profile phone id_number', prompt: 'consent' });
    assert.ok(!again.page.location?.startsWith(rp.redirectUri), 'no code for an identity that does not open');
    assert.ok(again.page.status >= 400, `an error page: ${again.page.status} ${again.page.url}`);
    assert.match(again.page.body, /<html/i);
    assert.equal(again.page.status, 401, 'record_unsealable: sign in again, not a server error');
    assert.match(again.page.body, /请重新登录|please sign in again/i, 'the page asks the person to sign in again');
    assert.doesNotMatch(again.page.body, /张三|330106198504121356|at [A-Za-z]+ \(|RecordUnsealableError/, 'no identity, no stack');
    assert.ok(federation.broker.provider, 'the broker still serves');
    assert.equal((await fetch(`${federation.issuer}/healthz`)).status, 200);
  });
});
