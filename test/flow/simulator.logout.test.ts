/**
 * The simulator's logout: RP-initiated logout behind a Chinese confirmation page, and back-channel
 * logout from the national side, each logout token verified with jose.
 */
import { strict as assert } from 'node:assert';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { NationalSimulator } from '../../scripts/dev/simulator/index.ts';
import { Browser } from '../support/browser.ts';
import { clientId, useNationalSimulator } from './simulator/support.ts';

describe('national-platform simulator', function () {
  const national = useNationalSimulator();
  const { received, atCallback, authorize, submit, logIn } = national;
  let sim: NationalSimulator;
  let config: oidc.Configuration;
  let postLogoutUri: string;
  before(() => ({ sim, config, postLogoutUri } = national));

  describe('logout', function () {
    it('sends a back-channel logout token at RP-initiated logout, after a Chinese confirmation page', async function () {
      const browser = new Browser();
      const { tokens } = await logIn(browser, 'zhangsan');
      assert.ok(tokens);
      received.length = 0;
      const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutUri, state: 'bye' });
      const confirm = await browser.follow(url, { stopAt: atCallback });
      assert.match(confirm.body, /确认退出登录/);
      const done = await submit(browser, confirm);
      const landed = new URL(done.location!);
      assert.equal(landed.origin + landed.pathname, postLogoutUri);
      assert.equal(landed.searchParams.get('state'), 'bye');
      const delivered = received.find((r) => r.path === '/national/backchannel-logout');
      assert.ok(delivered, 'the client got a logout token');
      const { payload, protectedHeader } = await jwtVerify(delivered.body.get('logout_token')!, createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)), {
        issuer: sim.issuer,
        audience: clientId,
        typ: 'logout+jwt',
      });
      assert.equal(protectedHeader.typ, 'logout+jwt');
      assert.equal(payload.sub, sim.subjectOf('zhangsan'));
      assert.equal(payload.sid, tokens.claims()!.sid);
      assert.equal(sim.sessionsOf('zhangsan').filter((s) => s.sids[clientId] === payload.sid).length, 0);
    });

    it('logs a person out from the national side without a browser', async function () {
      const browser = new Browser();
      const { idClaims } = await logIn(browser, 'lisi');
      const sessions = sim.sessionsOf('lisi');
      assert.ok(sessions.some((s) => s.sids[clientId] === idClaims?.sid));
      received.length = 0;
      const deliveries = await sim.backchannelLogout('lisi');
      assert.ok(deliveries.length >= 1);
      assert.ok(deliveries.every((d) => d.status === 200 && d.clientId === clientId));
      const tokens = received.map((r) => r.body.get('logout_token')!);
      const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
      const sids = [];
      for (const token of tokens) {
        const { payload } = await jwtVerify(token, jwks, { issuer: sim.issuer, audience: clientId, typ: 'logout+jwt' });
        assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
        assert.equal(payload.sub, sim.subjectOf('lisi'));
        assert.ok(payload.jti && payload.iat);
        sids.push(payload.sid);
      }
      assert.ok(sids.includes(idClaims?.sid));
      assert.deepEqual(sim.sessionsOf('lisi'), []);
      // The national session is gone: the next authorization asks for the password.
      const next = await authorize(browser);
      assert.match(next.page.body, /name="password"/);
      // With no session left, the token carries sub only.
      received.length = 0;
      await sim.backchannelLogout('lisi');
      assert.equal(received.length, 1);
      const { payload } = await jwtVerify(received[0]!.body.get('logout_token')!, jwks, { issuer: sim.issuer, audience: clientId });
      assert.equal(payload.sid, undefined);
    });
  });
});
