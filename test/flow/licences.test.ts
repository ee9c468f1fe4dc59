/**
 * Electronic licences (issue 16): a Zhejiang service gets a Shanghai-issued person's ID card and
 * 户口簿 after consent and verifies them with tongban/verify alone; refused and withdrawn consent,
 * an app not entitled, expired and revoked licences, a wrong holder, a tampered signature and the
 * national library down each fail; an agent gets the company's 营业执照 only while the mandate lives.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createLicenceVerifier, LicenceErrorCode, type LicenceVerifier } from '../../broker/verify/index.ts';
import { refuse } from '../../broker/release/sensitive.ts';
import { Browser, parseForm, type Page } from '../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type Federation, type RelyingParty } from '../support/federation.ts';
import { demoAccounts, demoCompanies, demoPassword } from '../../scripts/dev/simulator/index.ts';

const unserved = 'http://127.0.0.1:9';
/** 嘉兴 公积金 (浙江): entitled to ID card and 户口簿 licences, not to marriage certificates. */
const jiaxingFund: ConfiguredClient = {
  client_id: 'licences-jiaxing-fund',
  client_secret: 'licences-jiaxing-fund-secret',
  client_name: '嘉兴市住房公积金（演示）',
  city: '330400',
  redirect_uris: [`${unserved}/licences/fund`],
  scope: 'openid profile id_number licence:id_card licence:household_register',
};
/** The same app for the refusal: answers given to an app are remembered across sessions (release/consent-records.ts). */
const jiaxingFundRefused: ConfiguredClient = { ...jiaxingFund, client_id: 'licences-jiaxing-fund-refused', client_secret: 'licences-jiaxing-fund-refused-secret', redirect_uris: [`${unserved}/licences/fund-refused`] };
/** The same app for the withdrawal on /account. */
const jiaxingFundWithdrawing: ConfiguredClient = { ...jiaxingFund, client_id: 'licences-jiaxing-fund-withdrawing', client_secret: 'licences-jiaxing-fund-withdrawing-secret', redirect_uris: [`${unserved}/licences/fund-withdrawing`] };
const companyDesk: ConfiguredClient = {
  client_id: 'licences-company-desk',
  client_secret: 'licences-company-desk-secret',
  city: '330400',
  redirect_uris: [`${unserved}/licences/company`],
  scope: 'openid legal_person licence:business_licence',
};
/** A desk entitled to a company's and a person's licences, for the legal representative. */
const representativeDesk: ConfiguredClient = { ...companyDesk, client_id: 'licences-representative-desk', client_secret: 'licences-representative-desk-secret', redirect_uris: [`${unserved}/licences/representative`], scope: 'openid legal_person licence:business_licence licence:id_card' };
const personal = 'openid profile id_number licence:id_card licence:household_register';
const certNo = (username: string) => demoAccounts.find((a) => a.username === username)!.certNo;

describe('electronic licences relayed with consent', function () {
  this.timeout(40_000);
  let federation: Federation;
  let fund: RelyingParty;
  let desk: RelyingParty;
  let fundRefused: RelyingParty;
  let fundWithdrawing: RelyingParty;
  let representative: RelyingParty;
  let licences: LicenceVerifier;

  before(async () => {
    federation = await startFederation({ clients: [jiaxingFund, companyDesk, jiaxingFundRefused, jiaxingFundWithdrawing, representativeDesk] });
    representative = await relyingParty(federation.issuer, { clientId: representativeDesk.client_id, clientSecret: representativeDesk.client_secret!, redirectUri: representativeDesk.redirect_uris[0]! });
    fundWithdrawing = await relyingParty(federation.issuer, { clientId: jiaxingFundWithdrawing.client_id, clientSecret: jiaxingFundWithdrawing.client_secret!, redirectUri: jiaxingFundWithdrawing.redirect_uris[0]! });
    fundRefused = await relyingParty(federation.issuer, { clientId: jiaxingFundRefused.client_id, clientSecret: jiaxingFundRefused.client_secret!, redirectUri: jiaxingFundRefused.redirect_uris[0]! });
    fund = await relyingParty(federation.issuer, { clientId: jiaxingFund.client_id, clientSecret: jiaxingFund.client_secret!, redirectUri: jiaxingFund.redirect_uris[0]! });
    desk = await relyingParty(federation.issuer, { clientId: companyDesk.client_id, clientSecret: companyDesk.client_secret!, redirectUri: companyDesk.redirect_uris[0]! });
    licences = createLicenceVerifier({ library: `${federation.simulator.issuer}/licence-library` });
  });
  after(async () => federation?.stop());

  /** Signs `username` in; `ticked` are the sensitive boxes left ticked (all when undefined); `credit` chooses a company. */
  async function signIn(rp: RelyingParty, username: string, scope: string, ticked?: string[], credit?: string) {
    const browser = new Browser();
    const attempt = await authorizationRequest(rp, { scope });
    const stopAt = stopAtRedirectUri(rp);
    let page: Page = await browser.follow(attempt.url, { stopAt });
    for (let step = 0; step < 6 && !page.location?.startsWith(rp.redirectUri); step += 1) {
      assert.equal(page.status, 200, `${page.url} ${page.body.slice(0, 300)}`);
      if (/name="password"/.test(page.body)) {
        page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
      } else if (/name="credit_code"/.test(page.body)) {
        page = await browser.submitForm(page.body, page.url, { credit_code: credit! }, { stopAt });
      } else {
        const form = parseForm(page.body, page.url);
        const data = new URLSearchParams();
        const boxes = [...page.body.matchAll(/name="sensitive" value="([^"]+)"/g)].map((m) => m[1]!);
        for (const s of boxes.filter((b) => !ticked || ticked.includes(b))) data.append('sensitive', s);
        data.append('decision', 'allow');
        page = await browser.follow(form.action, { method: 'POST', body: data, stopAt });
      }
    }
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
      pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true,
    });
    return { tokens, claims: decodeJwt(tokens.id_token!), browser };
  }

  async function fetchLicences(accessToken: string | undefined, type?: string) {
    const url = new URL('/licences', federation.issuer);
    if (type) url.searchParams.set('type', type);
    const response = await fetch(url, { headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` } });
    return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as { licences?: Array<{ type: string; document: string }>; error?: string } };
  }

  it('discovery lists the licence scopes', async () => {
    const discovery = (await (await fetch(`${federation.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[] };
    for (const s of ['licence:id_card', 'licence:household_register', 'licence:marriage_certificate', 'licence:business_licence']) assert.ok(discovery.scopes_supported.includes(s), s);
  });

  it('a Zhejiang service gets a Shanghai-issued person\'s ID card and 户口簿 after consent and verifies them', async () => {
    const { tokens, claims } = await signIn(fund, 'zhaoliu', personal);
    const { status, body } = await fetchLicences(tokens.access_token);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.licences!.map((l) => l.type).sort(), ['household_register', 'id_card']);
    const holder = String(claims.idnum);
    assert.equal(holder, certNo('zhaoliu'));
    for (const l of body.licences!) {
      const verified = await licences.verify(l.document, { holder, type: l.type });
      assert.equal(verified.issuer.name, '上海市公安局');
      assert.equal(verified.holder.id, holder);
    }
    // Unchanged: the document is the authority's compact JWS, typed licence+jwt.
    assert.match(body.licences![0]!.document, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    // What was released is audited or logged, without the document or the person's data.
    const lines = JSON.stringify(federation.logger.lines);
    assert.doesNotMatch(lines, new RegExp(holder));
    // The fetch is an audited release: the app, its sub of the person, the licence scopes; no document, number or ID number.
    const entries = await federation.broker.audit.list({ type: 'release', client: jiaxingFund.client_id });
    const entry = entries.find((e) => e.action === 'licence.release' && e.subject === claims.sub);
    assert.ok(entry, 'the licence release is in the audit trail');
    assert.deepEqual([...(entry.details!.items as string[])].sort(), ['licence:household_register', 'licence:id_card']);
    const trail = JSON.stringify(entries);
    assert.ok(!trail.includes(holder) && !trail.includes(body.licences![0]!.document.split('.')[1]!), 'no ID number or document in the trail');
    for (const l of body.licences!) {
      const number = String(decodeJwt(l.document).number);
      assert.ok(!trail.includes(number) && !lines.includes(number), 'no licence number in the trail or logs');
    }
  });

  it('bad requests to /licences: OAuth JSON errors, never a document', async () => {
    const { tokens } = await signIn(fund, 'zhaoliu', personal);
    const none = await fetchLicences(undefined);
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_token');
    assert.match(none.challenge ?? '', /^Bearer error="invalid_token"/);
    const forged = await fetchLicences(`${tokens.access_token}x`);
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error, 'invalid_token');
    const unknown = await fetchLicences(tokens.access_token, 'id_card,passport');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_request');
    // A company's licence on a person's token the app is not entitled to: named in the challenge.
    const company = await fetchLicences(tokens.access_token, 'id_card,business_licence');
    assert.equal(company.status, 403);
    assert.equal(company.body.error, 'insufficient_scope');
    assert.match(company.challenge ?? '', /scope="licence:business_licence"/);
    for (const answer of [none, forged, unknown, company]) assert.equal(answer.body.licences, undefined);
  });

  it('a licence refused on the consent page is not released; the other one is', async () => {
    const { tokens } = await signIn(fundRefused, 'zhaoliu', personal, ['id_number', 'licence:id_card']);
    assert.equal((await fetchLicences(tokens.access_token, 'id_card')).status, 200);
    const refused = await fetchLicences(tokens.access_token, 'household_register');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'insufficient_scope');
    assert.equal(refused.body.licences, undefined);
  });

  it('a withdrawn consent stops the next fetch at once', async () => {
    const { tokens } = await signIn(fund, 'zhaoliu', personal);
    assert.equal((await fetchLicences(tokens.access_token)).status, 200);
    // What /account's withdrawal does to the app's grant.
    const { grantId } = (await federation.broker.provider.AccessToken.find(tokens.access_token))!;
    const grant = (await federation.broker.provider.Grant.find(grantId!))!;
    refuse(grant, ['licence:id_card', 'licence:household_register']);
    await grant.save();
    const after = await fetchLicences(tokens.access_token);
    assert.equal(after.status, 403);
    assert.equal(after.body.error, 'insufficient_scope');
  });

  it('a fetch is a release /account lists: the app with its licence items', async () => {
    const { tokens, browser } = await signIn(fund, 'zhaoliu', personal);
    const { accountId } = (await federation.broker.provider.AccessToken.find(tokens.access_token!))!;
    // Forget what the sign-in itself noted, so only the fetch can list the app.
    await federation.broker.store.set(`releases:${accountId!}`, [], 60_000);
    assert.doesNotMatch((await browser.get(`${federation.issuer}/account`)).body, new RegExp(`data-client="${jiaxingFund.client_id}"`));
    // A minute on: a node writes a note it wrote itself again only after a minute (release-log.ts).
    const realNow = Date.now;
    Date.now = () => realNow() + 61_000;
    try {
      assert.equal((await fetchLicences(tokens.access_token)).status, 200);
    } finally {
      Date.now = realNow;
    }
    const account = await browser.get(`${federation.issuer}/account`);
    const app = new RegExp(`<li class="app" data-client="${jiaxingFund.client_id}">[\\s\\S]*?</li>`).exec(account.body)?.[0];
    assert.ok(app, 'the app is listed after the fetch');
    assert.match(app, /data-item="licence:id_card"/);
    assert.match(app, /data-item="licence:household_register"/);
    assert.match(app, /class="when">（\d{4}-\d{2}-\d{2}/);
  });

  it('a withdrawal on /account stops the next fetch at once', async () => {
    const { tokens, browser } = await signIn(fundWithdrawing, 'zhaoliu', personal);
    assert.equal((await fetchLicences(tokens.access_token)).status, 200);
    let account = await browser.get(`${federation.issuer}/account`);
    // The withdrawal button names each licence consented to.
    assert.match(account.body, new RegExp(`id="withdraw-${jiaxingFundWithdrawing.client_id}"`));
    assert.match(account.body, /电子证照：居民身份证/);
    assert.match(account.body, /电子证照：居民户口簿/);
    account = await browser.submitForm(account.body, account.url, {}, { form: `withdraw-${jiaxingFundWithdrawing.client_id}` });
    assert.equal(new URL(account.url).pathname, '/account');
    const after = await fetchLicences(tokens.access_token);
    assert.equal(after.status, 403);
    assert.equal(after.body.error, 'insufficient_scope');
    assert.equal(after.body.licences, undefined);
  });

  it('a licence type the app is not entitled to is refused', async () => {
    await assert.rejects(signIn(fund, 'zhangsan', `${personal} licence:marriage_certificate`), (error: Error & { error?: string }) => error.error === 'invalid_scope');
    const { tokens } = await signIn(fund, 'zhangsan', personal);
    const refused = await fetchLicences(tokens.access_token, 'marriage_certificate');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'insufficient_scope');
  });

  it('an expired licence fails verification (王五\'s ID card)', async () => {
    const { tokens } = await signIn(fund, 'wangwu', personal);
    const { body } = await fetchLicences(tokens.access_token, 'id_card');
    await assert.rejects(licences.verify(body.licences![0]!.document, { holder: certNo('wangwu') }), { code: LicenceErrorCode.expired });
  });

  it('a revoked licence fails verification (李四\'s 户口簿)', async () => {
    const { tokens } = await signIn(fund, 'lisi', personal);
    const { body } = await fetchLicences(tokens.access_token, 'household_register');
    await assert.rejects(licences.verify(body.licences![0]!.document, { holder: certNo('lisi') }), { code: LicenceErrorCode.revoked });
  });

  it('a licence of another person and a tampered signature fail verification', async () => {
    const { tokens } = await signIn(fund, 'zhaoliu', personal);
    const document = (await fetchLicences(tokens.access_token, 'id_card')).body.licences![0]!.document;
    await assert.rejects(licences.verify(document, { holder: certNo('zhangsan') }), { code: LicenceErrorCode.wrongHolder });
    const [header, payload, signature] = document.split('.');
    const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), exp: 4102444800 })).toString('base64url');
    await assert.rejects(licences.verify(`${header}.${altered}.${signature}`, { holder: certNo('zhaoliu') }), { code: LicenceErrorCode.signatureInvalid });
    const unknownKid = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'licence+jwt', kid: 'GA999999-forged' })).toString('base64url');
    await assert.rejects(licences.verify(`${unknownKid}.${payload}.${signature}`, { holder: certNo('zhaoliu') }), { code: LicenceErrorCode.unknownAuthority });
  });

  it('the national library down or slow: temporarily_unavailable, no document', async () => {
    const { tokens } = await signIn(fund, 'zhaoliu', personal);
    await federation.simulator.misbehave('down');
    try {
      const down = await fetchLicences(tokens.access_token);
      assert.equal(down.status, 503);
      assert.equal(down.body.error, 'temporarily_unavailable');
      assert.equal(down.body.licences, undefined);
    } finally {
      await federation.simulator.behave();
    }
    await federation.simulator.misbehave('slow', { delayMs: 3000 });
    try {
      const slow = await fetchLicences(tokens.access_token);
      assert.equal(slow.status, 503);
      assert.equal(slow.body.error, 'temporarily_unavailable');
    } finally {
      await federation.simulator.behave();
    }
  });

  it('an agent gets the company\'s 营业执照 only while the mandate lives', async () => {
    const suzhou = demoCompanies.suzhou.creditCode;
    const { tokens } = await signIn(desk, 'lisi', 'openid legal_person licence:business_licence', undefined, suzhou);
    const { status, body } = await fetchLicences(tokens.access_token);
    assert.equal(status, 200, JSON.stringify(body));
    const verified = await licences.verify(body.licences![0]!.document, { holder: suzhou, type: 'business_licence' });
    assert.equal(verified.issuer.name, '苏州市市场监督管理局');
    federation.simulator.revokeMandate('lisi', suzhou);
    const ended = await fetchLicences(tokens.access_token);
    assert.equal(ended.status, 403);
    assert.equal(ended.body.error, 'access_denied');
    assert.equal(ended.body.licences, undefined);
  });

  it('the legal representative gets the company\'s 营业执照; a company\'s and a person\'s licences are asked for separately', async () => {
    const shanghai = demoCompanies.shanghai.creditCode;
    const { tokens } = await signIn(representative, 'zhaoliu', representativeDesk.scope!, undefined, shanghai);
    const { status, body } = await fetchLicences(tokens.access_token, 'business_licence');
    assert.equal(status, 200, JSON.stringify(body));
    const verified = await licences.verify(body.licences![0]!.document, { holder: shanghai, type: 'business_licence' });
    assert.equal(verified.holder.id_type, 'credit_code');
    const mixed = await fetchLicences(tokens.access_token, 'business_licence,id_card');
    assert.equal(mixed.status, 400);
    assert.equal(mixed.body.error, 'invalid_request');
    assert.equal(mixed.body.licences, undefined);
  });

  it('an agent whose mandate does not cover business registration is refused by the library', async () => {
    const { tokens } = await signIn(desk, 'lisi', 'openid legal_person licence:business_licence', undefined, demoCompanies.jiaxing.creditCode);
    const refused = await fetchLicences(tokens.access_token);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'access_denied');
  });
});
