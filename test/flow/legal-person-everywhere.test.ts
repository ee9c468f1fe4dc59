/**
 * Legal persons everywhere (issue 16 item 5), against the real national-platform simulator: the
 * legacy ticket bridges serve company logins in each province's own fields with the OIDC side's
 * mandate check; a revoked mandate makes the company's access tokens inactive at userinfo and
 * introspection at once; an app can require mandate scopes, and an agent whose mandate lacks them
 * is refused with a page naming them (an OAuth error for prompt=none).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../config/defaults.ts';
import { checkAppInput, clientMetadataOfApp } from '../../broker/members/index.ts';
import type { MemberApp } from '../../broker/members/types.ts';
import { demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser, type Page } from '../support/browser.ts';
import {
  acceptConsent, authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type AuthorizationAttempt, type Federation, type RelyingParty,
} from '../support/federation.ts';

const suzhou = demoCompanies.suzhou;
const jiaxing = demoCompanies.jiaxing;
const unserved = 'http://127.0.0.1:9';
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

function portal(id: string, city: string, extra: Partial<ConfiguredClient> = {}): ConfiguredClient {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    client_name: `${id} 门户`,
    city,
    redirect_uris: [`${unserved}/${id}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile phone legal_person offline_access',
    first_party: true,
    ...extra,
  };
}

function isChoicePage(page: Page): boolean {
  return page.status === 200 && /\/interaction\/[^/]+\/company$/.test(new URL(page.url).pathname) && /name="credit_code"/.test(page.body);
}

/** Follows a URL, logging in at the national platform when its page is shown. */
async function follow(browser: Browser, url: string | URL, username: string | undefined, stopAt: (url: URL) => boolean): Promise<Page> {
  let page = await browser.follow(String(url), { stopAt });
  if (page.status === 200 && /name="password"/.test(page.body)) {
    assert.ok(username, 'the national login page was shown');
    page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
  }
  return page;
}

async function choose(browser: Browser, page: Page, creditCode: string, stopAt: (url: URL) => boolean): Promise<Page> {
  assert.ok(isChoicePage(page), `the choice page is shown: ${page.status} ${page.url}`);
  return acceptConsent(browser, await browser.submitForm(page.body, page.url, { credit_code: creditCode }, { stopAt }), stopAt);
}

async function redeem(rp: RelyingParty, attempt: AuthorizationAttempt, page: Page) {
  assert.ok(page.location?.startsWith(rp.redirectUri), `reached the portal: ${page.status} ${page.url} ${page.body.slice(0, 200)}`);
  return oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
    pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
  });
}

describe('legal persons everywhere: legacy bridges', function () {
  this.timeout(30_000);
  const jiangsuCorp: ConfiguredLegacySystem = {
    province: 'jiangsu', city: '320500', serviceCode: 'sz-corp', name: '苏州企业开办', callbackUrl: `${unserved}/sz-corp/callback`,
    servicePassword: 'sz-corp-app-secret-2027-xyz', scopes: ['profile', 'legal_person'],
  };
  const zhejiangCorp: ConfiguredLegacySystem = {
    province: 'zhejiang', city: '330400', serviceCode: 'jx-corp', name: '嘉兴企业社保', callbackUrl: `${unserved}/jx-corp/callback`,
    servicePassword: 'jx-corp-service-password-2027', scopes: ['profile', 'legal_person'],
  };
  const zhejiangPerson: ConfiguredLegacySystem = { ...zhejiangCorp, serviceCode: 'jx-gjj', name: '嘉兴公积金', callbackUrl: `${unserved}/jx-gjj/callback`, scopes: ['profile'] };
  let federation: Federation;
  const stopAt = (url: URL) => url.href.startsWith(unserved);

  before(async () => {
    federation = await startFederation({ clients: [], overrides: { legacySystems: [jiangsuCorp, zhejiangCorp, zhejiangPerson] } });
  });
  after(async () => federation?.stop());

  /** A legacy company login up to the system's callback: national login, choice page, consent. */
  async function companyLogin(browser: Browser, entry: string, username: string, creditCode: string): Promise<URL> {
    const page = await choose(browser, await follow(browser, entry, username, stopAt), creditCode, stopAt);
    assert.ok(page.location?.startsWith(unserved), `reached the system's callback: ${page.status} ${page.url}`);
    return new URL(page.location!);
  }

  let lastTimestamp = 0;
  async function ticketValidate(ticket: string) {
    const at = Math.max(Date.now(), lastTimestamp + 1);
    lastTimestamp = at;
    const timestamp = String(at);
    const params = { app_id: jiangsuCorp.serviceCode, timestamp, app_sign: md5(jiangsuCorp.serviceCode + jiangsuCorp.servicePassword + timestamp), ticket };
    const response = await fetch(`${federation.issuer}/js/auth/ticketValidate.do`, { method: 'POST', body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return (await response.json()) as { code: string; msg: string; data?: Record<string, unknown> };
  }

  const usedTimes = new Set<string>();
  async function simpleauth(system: ConfiguredLegacySystem, method: 'ticketValidation' | 'getUserInfo', credential: string) {
    let offset = 0;
    const time = () => new Date(Date.now() - offset * 1000 + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
    while (usedTimes.has(`${system.serviceCode} ${time()}`)) offset += 1;
    const signedAt = time();
    usedTimes.add(`${system.serviceCode} ${signedAt}`);
    const params = {
      method, servicecode: system.serviceCode, time: signedAt, sign: md5(system.serviceCode + system.servicePassword + signedAt), datatype: 'json',
      [method === 'ticketValidation' ? 'st' : 'token']: credential,
    };
    const response = await fetch(`${federation.issuer}/zj/sso/servlet/simpleauth`, { method: 'POST', body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return (await response.json()) as Record<string, string>;
  }

  it('Jiangsu: a company login answers ticketValidate.do in the Jiangsu company fields', async () => {
    const callback = await companyLogin(new Browser(), `${federation.issuer}/js/auth/login.do?app_id=${jiangsuCorp.serviceCode}`, 'lisi', suzhou.creditCode);
    const answer = await ticketValidate(callback.searchParams.get('ticket')!);
    assert.equal(answer.code, '0', answer.msg);
    const data = answer.data!;
    assert.equal(data.userType, 2);
    assert.equal(data.creditCode, suzhou.creditCode);
    assert.equal(data.corpName, suzhou.name);
    assert.equal(data.agentRole, 2);
    assert.equal(data.agentName, '李四');
    assert.equal(data.agentScope, 'business_registration');
  });

  it('Zhejiang: orgcoding and the company fields; a revoked mandate stops the token at once', async () => {
    const callback = await companyLogin(new Browser(), `${federation.issuer}/zj/sso/usp.do?action=ssoLogin&servicecode=${zhejiangCorp.serviceCode}`, 'lisi', jiaxing.creditCode);
    const validated = await simpleauth(zhejiangCorp, 'ticketValidation', callback.searchParams.get('st')!);
    assert.equal(validated.result, '0', validated.errmsg);
    assert.equal(validated.orgcoding, jiaxing.creditCode);
    const info = await simpleauth(zhejiangCorp, 'getUserInfo', validated.token!);
    assert.equal(info.result, '0');
    assert.equal(info.userType, 'LEGAL_PERSON');
    assert.equal(info.unifiedSocialId, jiaxing.creditCode);
    assert.equal(info.CompanyName, jiaxing.name);
    assert.equal(info.attnUserType, 'AGENT');
    assert.equal(info.attnAuthScope, 'tax,social_insurance');

    federation.simulator.revokeMandate('lisi', jiaxing.creditCode);
    const after = await simpleauth(zhejiangCorp, 'getUserInfo', validated.token!);
    assert.equal(after.result, '6005', 'the token of a revoked mandate is refused');
    assert.ok(!JSON.stringify(after).includes(jiaxing.creditCode));
    assert.ok(federation.logger.lines.some((line) => line.event === 'legacy_company_refused' && line.code === 'mandate_not_current'));
    assert.ok(!federation.logger.lines.some((line) => JSON.stringify(line).includes(jiaxing.creditCode)), 'no credit code in the logs');
  });

  it('Zhejiang: a person login keeps orgcoding empty', async () => {
    const browser = new Browser();
    let page = await follow(browser, `${federation.issuer}/zj/sso/usp.do?action=ssoLogin&servicecode=${zhejiangPerson.serviceCode}`, 'zhangsan', stopAt);
    page = await acceptConsent(browser, page, stopAt);
    assert.ok(page.location?.startsWith(unserved));
    const validated = await simpleauth(zhejiangPerson, 'ticketValidation', new URL(page.location!).searchParams.get('st')!);
    assert.equal(validated.result, '0');
    assert.equal(validated.orgcoding, '');
  });

  it('Jiangsu: a ticket whose mandate was revoked before validation is refused', async () => {
    const callback = await companyLogin(new Browser(), `${federation.issuer}/js/auth/login.do?app_id=${jiangsuCorp.serviceCode}`, 'lisi', suzhou.creditCode);
    federation.simulator.revokeMandate('lisi', suzhou.creditCode);
    const answer = await ticketValidate(callback.searchParams.get('ticket')!);
    assert.equal(answer.code, '1004');
    assert.equal(answer.data, undefined);
  });
});

describe('legal persons everywhere: tokens and mandate scopes', function () {
  this.timeout(30_000);
  const jiangsuPortal = portal('suzhou-portal', '320500');
  /** Requires what only the Jiaxing mandate covers. */
  const taxApp = portal('suzhou-tax', '320500', { required_mandate_scopes: ['tax'] });
  /** Requires what only the Suzhou mandate covers. */
  const registrationApp = portal('suzhou-registration', '320500', { required_mandate_scopes: ['business_registration'] });
  let federation: Federation;
  let rps: Record<string, RelyingParty>;

  before(async () => {
    federation = await startFederation({ clients: [jiangsuPortal, taxApp, registrationApp] });
    rps = {};
    for (const c of [jiangsuPortal, taxApp, registrationApp]) {
      rps[c.client_id] = await relyingParty(federation.issuer, { clientId: c.client_id, clientSecret: c.client_secret!, redirectUri: c.redirect_uris[0]! });
    }
  });
  after(async () => federation?.stop());

  async function start(browser: Browser, rp: RelyingParty, username: string | undefined, params: Record<string, string> = {}) {
    const attempt = await authorizationRequest(rp, { scope: 'openid profile legal_person offline_access', ...params });
    const page = await follow(browser, attempt.url, username, stopAtRedirectUri(rp));
    return { attempt, page };
  }

  it('an app requiring mandate scopes refuses an agent whose mandate lacks them, with a page naming them', async () => {
    const rp = rps[taxApp.client_id]!;
    const browser = new Browser();
    const first = await start(browser, rp, 'lisi');
    // Jiaxing's mandate covers tax: accepted.
    const tokens = await redeem(rp, first.attempt, await choose(browser, first.page, jiaxing.creditCode, stopAtRedirectUri(rp)));
    assert.equal((decodeJwt(tokens.id_token!).represents as { credit_code: string }).credit_code, jiaxing.creditCode);

    // The registration app requires business_registration, which the session's company (Jiaxing) lacks.
    const registration = rps[registrationApp.client_id]!;
    const silent = await start(browser, registration, undefined, { prompt: 'none' });
    const error = new URL(silent.page.location!).searchParams;
    assert.equal(error.get('error'), 'access_denied');
    assert.match(error.get('error_description') ?? '', /business_registration/);

    // Interactively: the choice page again; choosing Jiaxing shows a page naming what is missing.
    const again = await start(browser, registration, undefined);
    assert.ok(isChoicePage(again.page), 'the choice is asked again');
    const page = await browser.submitForm(again.page.body, again.page.url, { credit_code: jiaxing.creditCode }, { stopAt: stopAtRedirectUri(registration) });
    assert.equal(page.status, 403);
    assert.match(page.body, /mandate_scope_missing/);
    assert.match(page.body, /business_registration/);
    assert.ok(!page.body.includes(jiaxing.creditCode), 'the page names scopes, not the company');
    // Its way back gives the portal access_denied.
    const back = /href="([^"]+)"[^>]*>[^<]*返回服务/.exec(page.body)?.[1];
    assert.ok(back, 'a way back to the service');
    const returned = await browser.follow(new URL(back.replaceAll('&amp;', '&'), page.url).href, { stopAt: stopAtRedirectUri(registration) });
    assert.equal(new URL(returned.location!).searchParams.get('error'), 'access_denied');
  });

  it('a legal representative lacks no mandate scope', async () => {
    const rp = rps[registrationApp.client_id]!;
    const browser = new Browser();
    const { attempt, page } = await start(browser, rp, 'zhaoliu');
    const tokens = await redeem(rp, attempt, await acceptConsent(browser, page, stopAtRedirectUri(rp)));
    assert.equal((decodeJwt(tokens.id_token!).represents as { role: string }).role, 'legal_representative');
  });

  it('a revoked mandate makes the company access tokens inactive at userinfo and introspection at once', async () => {
    const rp = rps[jiangsuPortal.client_id]!;
    const loginFor = async (creditCode: string) => {
      const browser = new Browser();
      const { attempt, page } = await start(browser, rp, 'lisi');
      const tokens = await redeem(rp, attempt, await choose(browser, page, creditCode, stopAtRedirectUri(rp)));
      return { tokens, sub: String(decodeJwt(tokens.id_token!).sub) };
    };
    const a = await loginFor(suzhou.creditCode);
    const b = await loginFor(jiaxing.creditCode);
    for (const { tokens, sub } of [a, b]) {
      assert.ok((await oidc.fetchUserInfo(rp.config, tokens.access_token, sub)).creditCode);
      assert.equal((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active, true);
    }

    // No refresh in between: the very next use is refused, at userinfo ...
    federation.simulator.revokeMandate('lisi', suzhou.creditCode);
    await assert.rejects(oidc.fetchUserInfo(rp.config, a.tokens.access_token, a.sub), (e: { error?: string; status?: number }) => e.error === 'invalid_token' || e.status === 401);
    assert.ok(federation.logger.lines.some((line) => line.event === 'mandate_not_current' && line.at === 'userinfo'));
    // ... and at introspection.
    federation.simulator.revokeMandate('lisi', jiaxing.creditCode);
    assert.equal((await oidc.tokenIntrospection(rp.config, b.tokens.access_token)).active, false);
    assert.ok(federation.logger.lines.some((line) => line.event === 'mandate_not_current' && line.at === 'introspection'));
    // Every token of those authorizations has ended with them.
    assert.equal((await oidc.tokenIntrospection(rp.config, a.tokens.access_token)).active, false);
    await assert.rejects(oidc.fetchUserInfo(rp.config, b.tokens.access_token, b.sub));
    for (const { tokens } of [a, b]) {
      await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    }
  });
});

describe('legal persons everywhere: required_mandate_scopes set by operators', () => {
  const input = {
    city: '320500', name: '苏州税务代办', redirect_uris: ['https://tax.suzhou.example/callback'], scope: 'openid profile legal_person',
    required_mandate_scopes: ['tax', 'tax'],
  };

  it('an operator registers an app with required mandate scopes; its client metadata carries them', () => {
    const { value, problems } = checkAppInput(input, { mode: 'production', allowFirstParty: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(value!.required_mandate_scopes, ['tax']);
    const app = { ...value!, client_id: '320500-tax', province: 'jiangsu', status: 'active', registered_via: 'operator', created_at: new Date().toISOString(), updated_at: new Date().toISOString(), revision: 1 } as MemberApp;
    assert.deepEqual((clientMetadataOfApp(app) as Record<string, unknown>).required_mandate_scopes, ['tax']);
  });

  it('refuses malformed scope names and an app without legal_person', () => {
    const malformed = checkAppInput({ ...input, required_mandate_scopes: ['Tax Office'] }, { mode: 'production', allowFirstParty: true });
    assert.ok(malformed.problems.some((p) => p.field === 'required_mandate_scopes'));
    const personOnly = checkAppInput({ ...input, scope: 'openid profile' }, { mode: 'production', allowFirstParty: true });
    assert.ok(personOnly.problems.some((p) => p.field === 'required_mandate_scopes' && /legal_person/.test(p.message)));
  });
});
