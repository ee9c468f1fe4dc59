/**
 * Legal-person mandates that change at the national platform: an invalid credit code, a refresh
 * that cannot be confirmed, an expired national token, a revoked or expired mandate, each stopping
 * refreshes, single sign-on and legacy checks as they should.
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { Browser } from '../support/browser.ts';
import { sessionUidOf, stopAtRedirectUri, type Federation } from '../support/federation.ts';
import { legalPersonRecordsOf } from '../support/sealed.ts';
import { suzhou, jiaxing, jiangsuPortal, type Parties, startParties, start, isChoicePage, choose, redeem, loginAs, refusedWith } from './legal-person/support.ts';

describe('legal-person mandates that change at the national platform', function () {
  this.timeout(30_000);
  let parties: Parties;
  let federation: Federation;

  before(async () => {
    parties = await startParties();
    federation = parties.federation;
  });
  after(async () => parties?.federation.stop());
  afterEach(async () => federation.simulator.behave());

  it('an invalid credit code from upstream is refused at login; nothing issued', async () => {
    await federation.simulator.misbehave('bad-credit-code');
    const browser = new Browser();
    const { page } = await start(browser, parties.jiangsu, 'lisi');
    assert.equal(page.status, 502);
    assert.match(page.body, /identity_invalid/);
    const back = /href="([^"]+)"/.exec(page.body.slice(page.body.indexOf('<main>')))?.[1];
    const returned = await browser.follow(back!.replaceAll('&amp;', '&'), { stopAt: stopAtRedirectUri(parties.jiangsu) });
    assert.equal(new URL(returned.location!).searchParams.get('error'), 'access_denied');
    assert.equal(new URL(returned.location!).searchParams.get('code'), null);
  });

  it('an invalid answer or an unreachable national platform at refresh: refused, the token kept for later', async () => {
    const { jiangsu } = parties;
    const { tokens } = await loginAs(new Browser(), jiangsu, 'lisi', jiaxing.creditCode);

    await federation.simulator.misbehave('bad-credit-code');
    await assert.rejects(oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!), refusedWith('invalid_grant', /can no longer be confirmed/));
    await federation.simulator.misbehave('down');
    const unavailable = await fetch(jiangsu.config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${jiangsuPortal.client_id}:${jiangsuPortal.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    });
    assert.equal(unavailable.status, 503);
    assert.equal(((await unavailable.json()) as { error?: string }).error, 'temporarily_unavailable');
    await federation.simulator.behave();
    const refreshed = await oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!);
    assert.equal((decodeJwt(refreshed.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);
  });

  it('an expired national access token: refresh refused; single sign-on asks the national platform again, silently', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { tokens } = await loginAs(browser, jiangsu, 'lisi', jiaxing.creditCode);
    const sessionUid = await sessionUidOf(federation, browser);
    const records = await legalPersonRecordsOf(federation.store);
    const record = await records.session(sessionUid);
    assert.ok(record && typeof record.nationalAccessToken === 'string');
    await records.saveSession(sessionUid, { ...record, nationalAccessTokenExpiresAt: Math.floor(Date.now() / 1000) - 1 }, 60);

    await assert.rejects(oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!), refusedWith('invalid_grant', /can no longer be confirmed/));
    // prompt=none cannot go to the national platform.
    const silentFailure = await start(browser, jiangsu, undefined, { prompt: 'none' });
    assert.equal(new URL(silentFailure.page.location!).searchParams.get('error'), 'login_required');
    // Otherwise the national session answers without a password, and the company is kept.
    const renewed = await start(browser, jiangsu, undefined);
    assert.ok(renewed.page.history.some((url) => url.startsWith(federation.simulator.url)), 'went by the national platform');
    const again = await redeem(jiangsu, renewed.attempt, renewed.page);
    assert.equal((decodeJwt(again.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);
    await oidc.refreshTokenGrant(jiangsu.config, again.refresh_token!);
  });

  it('a revoked mandate: the next refresh, single sign-on and legacy check are refused', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { tokens, claims } = await loginAs(browser, jiangsu, 'lisi', suzhou.creditCode);
    const sessionUid = await sessionUidOf(federation, browser);
    const acting = await federation.broker.legalPersons.checkActing({ sessionUid });
    assert.equal(acting.creditCode, suzhou.creditCode);
    const before = await oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!);

    federation.simulator.revokeMandate('lisi', suzhou.creditCode);

    await assert.rejects(oidc.refreshTokenGrant(jiangsu.config, before.refresh_token!), refusedWith('invalid_grant', /expired or was revoked/));
    // Every token of that authorization has ended with it.
    await assert.rejects(oidc.fetchUserInfo(jiangsu.config, before.access_token, String(claims.sub)));
    assert.ok(federation.logger.lines.some((line) => line.event === 'mandate_not_current' && line.at === 'refresh'));

    // Legacy bridges: the check answers with a stable code.
    await assert.rejects(federation.broker.legalPersons.checkActing({ sessionUid }), (error) => isTongbanError(error) && error.code === 'mandate_not_current');

    // Single sign-on: the choice page again, without the revoked company.
    const reuse = await start(browser, jiangsu, undefined);
    assert.ok(isChoicePage(reuse.page), 'the choice is asked again');
    assert.ok(!reuse.page.body.includes(suzhou.creditCode), 'the revoked company is not offered');
    assert.ok(reuse.page.body.includes(jiaxing.creditCode));
    // prompt=none cannot show the page: the portal gets a standard error.
    const silent = await start(browser, jiangsu, undefined, { prompt: 'none' });
    assert.equal(new URL(silent.page.location!).searchParams.get('error'), 'account_selection_required');
    const next = await redeem(jiangsu, reuse.attempt, await choose(browser, jiangsu, reuse.page, jiaxing.creditCode));
    assert.equal((decodeJwt(next.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);
    assert.equal((await federation.broker.legalPersons.checkActing({ sessionUid })).creditCode, jiaxing.creditCode);
  });

  it('when the broker session ends, company refresh tokens can no longer be confirmed', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { tokens } = await loginAs(browser, jiangsu, 'lisi', jiaxing.creditCode);
    const sessionUid = await sessionUidOf(federation, browser);
    assert.equal(await federation.broker.singleLogout.endSessions([sessionUid], 'national'), 1);
    assert.equal(await (await legalPersonRecordsOf(federation.store)).session(sessionUid), undefined, 'the national token is forgotten with the session');
    await assert.rejects(oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!), refusedWith('invalid_grant'));
    await assert.rejects(federation.broker.legalPersons.checkActing({ sessionUid }), (error) => isTongbanError(error) && error.code === 'mandate_unverifiable');
  });

  it('an expired mandate: refresh refused; with nothing left, single sign-on explains and the portal gets access_denied', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { tokens } = await loginAs(browser, jiangsu, 'lisi', jiaxing.creditCode);
    federation.simulator.setMandateExpiry('lisi', jiaxing.creditCode, Math.floor(Date.now() / 1000) - 1);

    await assert.rejects(oidc.refreshTokenGrant(jiangsu.config, tokens.refresh_token!), refusedWith('invalid_grant', /expired or was revoked/));
    // hefei expired long ago, suzhou was revoked above, jiaxing has just expired.
    const reuse = await start(browser, jiangsu, undefined);
    assert.equal(reuse.page.status, 403);
    assert.match(reuse.page.body, /legal_person_none/);
    await assert.rejects(
      federation.broker.legalPersons.checkActing({ sessionUid: await sessionUidOf(federation, browser) }),
      (error) => isTongbanError(error) && error.code === 'mandate_not_current',
    );
  });
});
