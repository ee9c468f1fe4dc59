/**
 * Legal-person logins end to end: a portal asks for `legal_person`, the person logs in at the
 * national-platform simulator, chooses the company on the broker's page, and the portal receives
 * the company in the standard claims and in its province's dialect.
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { commaList, compactChinaTime, plainChinaTime } from '../../adapters/formats.ts';
import { Browser } from '../support/browser.ts';
import { stopAtRedirectUri, type Federation } from '../support/federation.ts';
import { suzhou, jiaxing, hefei, shanghai, jiangsuPortal, scope, type Parties, startParties, start, isChoicePage, choose, redeem, loginAs, expiryOf } from './legal-person/support.ts';

describe('legal-person login (end to end)', function () {
  this.timeout(30_000);
  let parties: Parties;
  let federation: Federation;

  before(async () => {
    parties = await startParties();
    federation = parties.federation;
  });
  after(async () => parties?.federation.stop());

  it('lisi acts for company A at a Jiangsu portal, then for company B at a Zhejiang portal in the same session', async () => {
    const { jiangsu, zhejiang } = parties;
    const browser = new Browser();

    // Jiangsu portal (苏州 320500): the choice page lists the current mandates only.
    const first = await start(browser, jiangsu, 'lisi');
    assert.ok(isChoicePage(first.page));
    for (const company of [suzhou, jiaxing]) {
      assert.ok(first.page.body.includes(company.creditCode) && first.page.body.includes(company.name), `${company.name} offered`);
    }
    assert.ok(!first.page.body.includes(hefei.creditCode) && !first.page.body.includes(hefei.name), 'the expired mandate is never offered');
    assert.match(first.page.body, /选择办事企业/);
    assert.match(first.page.body, /<html lang="zh-CN"/, 'one language a page: Chinese by default');
    const a = await redeem(jiangsu, first.attempt, await choose(browser, jiangsu, first.page, suzhou.creditCode));
    const suzhouExpiry = expiryOf(federation, 'lisi', suzhou.creditCode);

    const aId = decodeJwt(a.id_token!);
    const aInfo = await oidc.fetchUserInfo(jiangsu.config, a.access_token, String(aId.sub));
    for (const claims of [aId, aInfo]) {
      assert.deepEqual(claims.represents, {
        credit_code: suzhou.creditCode,
        name: suzhou.name,
        org_type: 'enterprise',
        role: 'agent',
        acr: 'urn:tongban:loa:3',
        mandate: { scope: ['business_registration'], expires_at: suzhouExpiry },
      });
      assert.equal(claims.act, undefined);
    }
    // Jiangsu dialect, field by field.
    assert.equal(aInfo.userType, 2);
    assert.equal(aInfo.creditCode, suzhou.creditCode);
    assert.equal(aInfo.corpName, suzhou.name);
    assert.equal(aInfo.corpType, 'enterprise');
    assert.equal(aInfo.agentName, '李四');
    assert.equal(aInfo.agentRole, 2);
    assert.equal(aInfo.agentAuthLevel, 1);
    assert.equal(aInfo.agentScope, 'business_registration');
    assert.equal(aInfo.agentExpireTime, plainChinaTime(suzhouExpiry));
    assert.equal(aInfo.agentMobile, '+8613900000002');
    assert.equal(aInfo.realName, '李四');
    assert.equal(aInfo.authLevel, 1);
    assert.equal(aInfo.name, '李四');
    assert.ok(typeof aInfo.userId === 'string');
    assert.equal(aInfo.agentPapersNumber, undefined, 'no document number without id_number');

    // Zhejiang portal (杭州 330100), same browser: no national login, the choice page again.
    const second = await start(browser, zhejiang, undefined, { prompt: 'select_account' });
    assert.ok(isChoicePage(second.page), 'prompt=select_account re-opens the choice');
    assert.ok(!second.page.history.some((url) => url.startsWith(federation.simulator.url)), 'single sign-on: no national round trip');
    assert.match(second.page.body, new RegExp(`value="${suzhou.creditCode}" checked`), 'the current choice is pre-selected');
    const b = await redeem(zhejiang, second.attempt, await choose(browser, zhejiang, second.page, jiaxing.creditCode));
    const jiaxingExpiry = expiryOf(federation, 'lisi', jiaxing.creditCode);
    const bId = decodeJwt(b.id_token!);
    const bInfo = await oidc.fetchUserInfo(zhejiang.config, b.access_token, String(bId.sub));
    assert.equal((bInfo.represents as { credit_code: string }).credit_code, jiaxing.creditCode);
    assert.deepEqual((bInfo.represents as { mandate: unknown }).mandate, { scope: ['tax', 'social_insurance'], expires_at: jiaxingExpiry });
    // Zhejiang dialect, field by field.
    assert.equal(bInfo.userType, 'LEGAL_PERSON');
    assert.equal(bInfo.unifiedSocialId, jiaxing.creditCode);
    assert.equal(bInfo.CompanyName, jiaxing.name);
    assert.equal(bInfo.orgType, 'enterprise');
    assert.equal(bInfo.attnName, '李四');
    assert.equal(bInfo.attnUserType, 'AGENT');
    assert.equal(bInfo.attnAuthLevel, 3);
    assert.equal(bInfo.attnAuthScope, commaList(['tax', 'social_insurance']));
    assert.equal(bInfo.attnAuthExpireTime, compactChinaTime(jiaxingExpiry));
    assert.equal(bInfo.attnPhone, '+8613900000002');
    assert.equal(bInfo.authlevel, 3);
    assert.equal(bInfo.principal, undefined, 'principal only when the legal representative acts');
    assert.notEqual(bId.sub, aId.sub, 'a person has one subject per province');

    // The Jiangsu tokens keep the company they were issued for.
    const again = await oidc.fetchUserInfo(jiangsu.config, a.access_token, String(aId.sub));
    assert.equal(again.creditCode, suzhou.creditCode);
    const refreshed = await oidc.refreshTokenGrant(jiangsu.config, a.refresh_token!);
    assert.equal((decodeJwt(refreshed.id_token!).represents as { credit_code: string }).credit_code, suzhou.creditCode);

    // The choice lasts for the session: the Jiangsu portal's next silent login acts for B.
    const silent = await start(browser, jiangsu, undefined, { prompt: 'none' });
    const c = await redeem(jiangsu, silent.attempt, silent.page);
    const cInfo = await oidc.fetchUserInfo(jiangsu.config, c.access_token, String(decodeJwt(c.id_token!).sub));
    assert.equal(cInfo.creditCode, jiaxing.creditCode);
    assert.equal(cInfo.agentScope, 'tax,social_insurance');
    assert.equal(decodeJwt(c.id_token!).sub, aId.sub, 'the person stays the sub');
    // Tokens bound to the session (no offline_access) end when the app's company changes in it.
    await assert.rejects(oidc.fetchUserInfo(jiangsu.config, a.access_token, String(aId.sub)));
  });

  it('advertises the legal_person scope and its claims', () => {
    const metadata = parties.jiangsu.config.serverMetadata();
    assert.ok(metadata.scopes_supported?.includes('legal_person'));
    for (const claim of ['represents', 'act', 'legal_person']) assert.ok(metadata.claims_supported?.includes(claim), claim);
  });

  it('an app that is not first-party asks consent after the company is chosen', async () => {
    const { thirdParty } = parties;
    const browser = new Browser();
    // offline_access (kept by oidc-provider with prompt=consent only): these tokens outlive the
    // session's current choice for the app (see below).
    const { attempt, page } = await start(browser, thirdParty, 'lisi', { scope: `${scope} offline_access`, prompt: 'consent' });
    assert.ok(isChoicePage(page));
    const consent = await choose(browser, thirdParty, page, suzhou.creditCode);
    assert.match(consent.body, /授权确认/);
    assert.match(consent.body, /您所代表的企业信息/);
    const tokens = await redeem(thirdParty, attempt, await browser.submitForm(consent.body, consent.url, {}, { stopAt: stopAtRedirectUri(thirdParty) }));
    const info = await oidc.fetchUserInfo(thirdParty.config, tokens.access_token, String(decodeJwt(tokens.id_token!).sub));
    assert.equal(info.unifiedSocialId, suzhou.creditCode, 'Zhejiang dialect for a 嘉兴 app');
    // Another company later is another grant: consent is asked again.
    const other = await start(browser, thirdParty, undefined, { prompt: 'select_account' });
    const again = await choose(browser, thirdParty, other.page, jiaxing.creditCode);
    assert.match(again.body, /授权确认/);
    const next = await redeem(thirdParty, other.attempt, await browser.submitForm(again.body, again.url, {}, { stopAt: stopAtRedirectUri(thirdParty) }));
    assert.equal((decodeJwt(next.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);
    const first = await oidc.fetchUserInfo(thirdParty.config, tokens.access_token, String(decodeJwt(tokens.id_token!).sub));
    assert.equal(first.unifiedSocialId, suzhou.creditCode, 'the earlier grant keeps its company');
    const firstRefresh = await oidc.refreshTokenGrant(thirdParty.config, tokens.refresh_token!);
    assert.equal((decodeJwt(firstRefresh.id_token!).represents as { credit_code: string }).credit_code, suzhou.creditCode);
  });

  it('the legal representative of one company acts without a choice page', async () => {
    const browser = new Browser();
    const { attempt, page } = await start(browser, parties.zhejiang, 'zhaoliu');
    assert.ok(page.location?.startsWith(parties.zhejiang.redirectUri), `no choice page: ${page.url}`);
    assert.ok(!page.history.some((url) => url.endsWith('/company')));
    const tokens = await redeem(parties.zhejiang, attempt, page);
    const info = await oidc.fetchUserInfo(parties.zhejiang.config, tokens.access_token, String(decodeJwt(tokens.id_token!).sub));
    assert.deepEqual(info.represents, { credit_code: shanghai.creditCode, name: shanghai.name, org_type: 'enterprise', role: 'legal_representative', acr: 'urn:tongban:loa:3' });
    assert.equal(info.userType, 'LEGAL_PERSON');
    assert.equal(info.unifiedSocialId, shanghai.creditCode);
    assert.equal(info.CompanyName, shanghai.name);
    assert.equal(info.attnUserType, 'LEGAL_REPRESENTATIVE');
    assert.equal(info.attnName, '赵六');
    assert.equal(info.principal, '赵六');
    assert.equal(info.principalUserId, info.userid);
    assert.equal(info.attnAuthExpireTime, undefined, 'no mandate expiry for a legal representative');
    assert.equal(info.attnAuthScope, undefined);
  });

  it('an app registered with legal_person_subject=company gets the company as sub and the person in act', async () => {
    const { company, jiangsu } = parties;
    const browser = new Browser();
    const { tokens, claims } = await loginAs(browser, company, 'lisi', suzhou.creditCode);
    const sub = String(claims.sub);
    assert.ok(sub.length >= 32 && !sub.includes(suzhou.creditCode) && sub !== suzhou.creditCode, 'a pairwise subject, never the credit code');
    assert.deepEqual(claims.legal_person, { credit_code: suzhou.creditCode, name: suzhou.name, org_type: 'enterprise' });
    const act = claims.act as Record<string, unknown>;
    assert.equal(act.role, 'agent');
    assert.equal(act.acr, 'urn:tongban:loa:3');
    assert.deepEqual(act.mandate, { scope: ['business_registration'], expires_at: expiryOf(federation, 'lisi', suzhou.creditCode) });
    assert.equal(claims.represents, undefined);
    assert.equal(claims.acr, 'urn:tongban:loa:3');

    // userinfo and introspection name the same subject as the ID token.
    const info = await oidc.fetchUserInfo(company.config, tokens.access_token, sub);
    assert.equal(info.sub, sub);
    assert.equal(info.creditCode, suzhou.creditCode);
    assert.equal((await oidc.tokenIntrospection(company.config, tokens.access_token)).sub, sub);
    const refreshed = await oidc.refreshTokenGrant(company.config, tokens.refresh_token!);
    assert.equal(decodeJwt(refreshed.id_token!).sub, sub);

    // act.sub is the person's subject in the province: what a person-shaped Jiangsu app sees.
    const person = await start(browser, jiangsu, undefined);
    const personTokens = await redeem(jiangsu, person.attempt, person.page);
    const personSub = decodeJwt(personTokens.id_token!).sub;
    assert.equal(act.sub, personSub);
    assert.notEqual(sub, personSub);

    // Stable: another login for the same company gets the same subject.
    const other = await loginAs(new Browser(), company, 'lisi', suzhou.creditCode);
    assert.equal(other.claims.sub, sub);
    // A different company, a different subject.
    const third = await loginAs(new Browser(), company, 'lisi', jiaxing.creditCode);
    assert.notEqual(third.claims.sub, sub);
  });

  it('refuses a forged company choice with a clear page; nothing is issued', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { attempt, page } = await start(browser, jiangsu, 'lisi');
    assert.ok(isChoicePage(page));
    // The expired mandate, another person's company, and something that is no credit code at all.
    for (const forged of [hefei.creditCode, shanghai.creditCode, 'not-a-credit-code', '']) {
      const refused = await choose(browser, jiangsu, page, forged);
      assert.equal(refused.status, 403, forged);
      assert.equal(refused.location, undefined, 'no redirect to the portal');
      assert.match(refused.body, /legal_person_not_eligible/);
      assert.match(refused.body, /您不能代表所提交的企业/);
      assert.match(refused.body, /\/company"/, 'a way back to the list');
      assert.doesNotMatch(refused.body, /at \w+ \(/);
    }
    assert.ok(federation.logger.lines.some((line) => line.event === 'legal_person_refused' && line.code === 'legal_person_not_eligible'));

    // Another browser cannot choose for this login, even with a company lisi may represent.
    const intruder = new Browser();
    const stolen = await intruder.request(page.url, { method: 'POST', body: new URLSearchParams({ credit_code: suzhou.creditCode, decision: 'act' }) });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.headers.get('location'), null);
    assert.match(await stolen.text(), /session_not_found/);

    // The person's own valid choice still completes the login.
    const tokens = await redeem(jiangsu, attempt, await choose(browser, jiangsu, page, jiaxing.creditCode));
    assert.equal((decodeJwt(tokens.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);
  });

  it('a person who may act for no company gets an explaining page; the portal gets access_denied', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const { page } = await start(browser, jiangsu, 'zhangsan');
    assert.equal(page.status, 403);
    assert.match(page.body, /legal_person_none/);
    assert.match(page.body, /您目前不能代表任何企业/);
    const back = /href="([^"]+)"/.exec(page.body.slice(page.body.indexOf('<main>')))?.[1];
    assert.ok(back);
    const returned = await browser.follow(back.replaceAll('&amp;', '&'), { stopAt: stopAtRedirectUri(jiangsu) });
    const result = new URL(returned.location!);
    assert.equal(result.searchParams.get('error'), 'access_denied');
    assert.match(result.searchParams.get('error_description') ?? '', /no company/);
    assert.equal(result.searchParams.get('code'), null);
    // Issue 13, item 4: /account lists only apps that really received tokens, not this refused one.
    const account = await browser.get(`${federation.issuer}/account`);
    assert.doesNotMatch(account.body, /id="signed-out"/, 'the person is signed in at the broker');
    assert.doesNotMatch(account.body, new RegExp(`data-client="${jiangsuPortal.client_id}"`), 'a refused app is not listed as reached');
  });

  it('prompt=select_account on a natural-person login has nothing to choose', async () => {
    const { jiangsu } = parties;
    const browser = new Browser();
    const first = await start(browser, jiangsu, 'zhangsan', { scope: 'openid profile' });
    await redeem(jiangsu, first.attempt, first.page);
    const again = await start(browser, jiangsu, undefined, { scope: 'openid profile', prompt: 'select_account' });
    const tokens = await redeem(jiangsu, again.attempt, again.page);
    const claims = decodeJwt(tokens.id_token!);
    assert.equal(claims.name, '张三');
    assert.equal(claims.represents, undefined);
  });

  it('keeps credit codes, names and tokens out of the logs', () => {
    const text = JSON.stringify(federation.logger.lines);
    for (const secret of [suzhou.creditCode, jiaxing.creditCode, shanghai.creditCode, suzhou.name, '李四', '赵六']) {
      assert.ok(!text.includes(secret), 'a log line carries company or personal data');
    }
  });
});
