/**
 * The 国密 suite end to end (issue 13, item 5): a broker configured with `crypto.suite: "gm"` signs a
 * person in, seals the identity record with SM4 (`tb1.gm.`), records the release in an SM3 audit
 * chain that verifies, and a broker configured with the other suite refuses that store at start
 * with the clear message. The building blocks are tested in test/unit/crypto.test.ts.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { loadConfig } from '../../config/load.ts';
import { createBroker } from '../../broker/broker.ts';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, freePort, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const portal: ConfiguredClient = {
  client_id: 'gm-hangzhou-portal',
  client_secret: 'gm-hangzhou-portal-secret',
  client_name: '杭州办事大厅',
  city: '330100',
  redirect_uris: ['http://127.0.0.1:9/gm/callback'],
  grant_types: ['authorization_code'],
  scope: 'openid profile phone id_number',
  first_party: true,
  purposes: { id_number: '核验办事人身份' },
};

describe('the 国密 suite in a running broker', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal], overrides: { crypto: { suite: 'gm' } } });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  it('signs in, seals with SM4, chains the release with SM3, and refuses a broker of the other suite on the same store', async () => {
    const browser = new Browser();
    const attempt = await authorizationRequest(rp, { scope: 'openid profile phone id_number' });
    const page = await browse(browser, rp, attempt, 'zhangsan');
    assert.ok(page.location?.startsWith(rp.redirectUri), `reached the app: ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.ok(claims.idnum, 'the consented ID number is released');

    const session = await federation.broker.provider.Session.find(browser.jar.get('tongban_session')!.value);
    const record = await federation.store.get<{ sealed: string }>(`identity:${session!.accountId}`);
    assert.match(record?.sealed ?? '', /^tb1\.gm\./, 'the identity record is sealed under the gm suite');

    const releases = await federation.broker.audit.list({ type: 'release', client: portal.client_id });
    const release = releases.find((entry) => entry.subject === claims.sub);
    assert.ok(release, 'the release is in the audit trail');
    assert.equal(release.alg, 'sm3');
    assert.match(release.hash, /^[0-9a-f]{64}$/);
    assert.equal((await federation.broker.audit.verify()).ok, true);

    const port = await freePort();
    const international = loadConfig({
      env: { TONGBAN_MODE: 'development' },
      overrides: { issuer: `http://127.0.0.1:${port}`, listen: { host: '127.0.0.1', port }, metrics: { listen: { host: '127.0.0.1', port: 0 } }, store: 'memory:', crypto: { suite: 'international' } },
    });
    await assert.rejects(createBroker(international, { logger: createMemoryLogger('error'), store: federation.store }), (error: unknown) => {
      assert.ok(isTongbanError(error) && error.code === 'crypto_suite_mismatch', String(error));
      assert.match(error.message, /written under crypto\.suite "gm".*asks for "international".*start from a new store/s);
      return true;
    });
  });
});
