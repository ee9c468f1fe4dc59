/**
 * The simulator's misbehaviour modes: each broken answer it can give is one the broker's relying
 * party (openid-client, then fromNational) must refuse for that reason.
 */
import { strict as assert } from 'node:assert';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { fromNational } from '../../broker/national/claims.ts';
import type { NationalSimulator } from '../../scripts/dev/simulator/index.ts';
import { Browser } from '../support/browser.ts';
import { clientId, clientSecret, useNationalSimulator } from './simulator/support.ts';

describe('national-platform simulator', function () {
  const national = useNationalSimulator();
  const { authorize, redeem, logIn } = national;
  let sim: NationalSimulator;
  let config: oidc.Configuration;
  let redirectUri: string;
  before(() => ({ sim, config, redirectUri } = national));

  describe('misbehaviour', function () {
    let browser: Browser;

    before(async function () {
      browser = new Browser();
      await logIn(browser, 'zhangsan');
    });

    const caught = {
      'wrong-signature': /JWT signature verification failed/,
      'wrong-audience': /"aud"/,
      'wrong-issuer': /"iss" \(issuer\) claim/,
      'wrong-nonce': /"nonce"/,
      'expired-id-token': /"exp"/,
      'alg-none': /"alg"/,
      hs256: /"alg"/,
      'wrong-response-iss': /"iss" \(issuer\) response parameter/,
    } as const;
    for (const [mode, reason] of Object.entries(caught) as Array<[keyof typeof caught, RegExp]>) {
      it(`${mode}: openid-client rejects the response for that reason`, async function () {
        await sim.misbehave(mode);
        const attempt = await authorize(browser);
        await assert.rejects(redeem(attempt), (error: Error) => reason.test(error.cause instanceof Error ? error.cause.message : error.message));
        await sim.behave();
        await redeem(await authorize(browser));
      });
    }

    it('wrong-signature keeps the kid of the real key', async function () {
      await sim.misbehave('wrong-signature');
      const attempt = await authorize(browser);
      const response = await fetch(config.serverMetadata().token_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: new URL(attempt.page.location!).searchParams.get('code')!,
          redirect_uri: redirectUri,
          code_verifier: attempt.verifier,
          client_id: clientId,
          client_secret: clientSecret,
        }),
      });
      const { id_token: idToken } = await response.json() as { id_token: string };
      const jwks = await (await fetch(config.serverMetadata().jwks_uri!)).json() as { keys: Array<{ kid: string }> };
      assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(idToken).kid));
    });

    for (const mode of ['bad-id-number', 'bad-credit-code'] as const) {
      it(`${mode}: the tokens verify but fromNational refuses the identity`, async function () {
        await sim.misbehave(mode);
        const result = await redeem(await authorize(browser));
        assert.throws(() => fromNational({ ...result.userinfo, ...result.idClaims }), (error) => isTongbanError(error) && error.code === 'identity_invalid');
      });
    }

    it('error-callback: the authorization response is access_denied, even with a live session', async function () {
      await sim.misbehave('error-callback');
      const attempt = await authorize(browser);
      const location = new URL(attempt.page.location!);
      assert.equal(location.searchParams.get('error'), 'access_denied');
      assert.equal(location.searchParams.get('state'), attempt.state);
      assert.equal(location.searchParams.get('iss'), sim.issuer);
      await assert.rejects(redeem(attempt), (error) => error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied');
    });

    it('slow: every response is delayed', async function () {
      await sim.misbehave('slow', { delayMs: 400 });
      const discovery = `${sim.issuer}/.well-known/openid-configuration`;
      await assert.rejects(fetch(discovery, { signal: AbortSignal.timeout(100) }));
      const started = Date.now();
      assert.equal((await fetch(discovery)).status, 200);
      assert.ok(Date.now() - started >= 390);
    });

    it('down: connections are refused until behave()', async function () {
      const discovery = `${sim.issuer}/.well-known/openid-configuration`;
      await sim.misbehave('down');
      assert.equal(sim.mode, 'down');
      await assert.rejects(fetch(discovery));
      await sim.behave();
      assert.equal((await fetch(discovery)).status, 200);
    });
  });
});
