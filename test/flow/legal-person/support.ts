/**
 * Shared set-up of the legal-person flow tests: the portals of two provinces, an app that wants the
 * company as `sub` and one that is not first-party, and the browser steps of a company login
 * (national login, company choice, the separate consent for the credit code, redemption).
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../../config/defaults.ts';
import { demoCompanies, demoPassword } from '../../../scripts/dev/simulator/index.ts';
import type { Browser, Page } from '../../support/browser.ts';
import { authorizationRequest, relyingParty, startFederation, stopAtRedirectUri, type AuthorizationAttempt, type Federation, type RelyingParty } from '../../support/federation.ts';

export const suzhou = demoCompanies.suzhou;
export const jiaxing = demoCompanies.jiaxing;
export const hefei = demoCompanies.hefei;
export const shanghai = demoCompanies.shanghai;

export function portal(id: string, city: string, extra: Partial<ConfiguredClient> = {}): ConfiguredClient {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    client_name: `${id} 门户`,
    city,
    redirect_uris: [`http://127.0.0.1:9/${id}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile phone legal_person offline_access',
    first_party: true,
    ...extra,
  };
}

/** Jiangsu (苏州) and Zhejiang (杭州) portals, and a Jiangsu app that wants the company as `sub`. */
export const jiangsuPortal = portal('suzhou-portal', '320500');
export const zhejiangPortal = portal('hangzhou-portal', '330100');
export const companyApp = portal('suzhou-tax', '320500', { legal_person_subject: 'company' });
/** Not first-party: the person consents after choosing the company. */
export const thirdPartyApp = portal('jiaxing-service', '330400', { first_party: false });
export const scope = 'openid profile phone legal_person';

export interface Parties {
  readonly federation: Federation;
  readonly jiangsu: RelyingParty;
  readonly zhejiang: RelyingParty;
  readonly company: RelyingParty;
  readonly thirdParty: RelyingParty;
}

export async function startParties(): Promise<Parties> {
  const federation = await startFederation({ clients: [jiangsuPortal, zhejiangPortal, companyApp, thirdPartyApp] });
  const rp = (c: ConfiguredClient) => relyingParty(federation.issuer, { clientId: c.client_id, clientSecret: c.client_secret!, redirectUri: c.redirect_uris[0]! });
  return { federation, jiangsu: await rp(jiangsuPortal), zhejiang: await rp(zhejiangPortal), company: await rp(companyApp), thirdParty: await rp(thirdPartyApp) };
}

/** Starts an authorization and logs in at the national platform when its page is shown. */
export async function start(browser: Browser, rp: RelyingParty, username: string | undefined, params: Record<string, string> = {}): Promise<{ attempt: AuthorizationAttempt; page: Page }> {
  const attempt = await authorizationRequest(rp, { scope, ...params });
  const stopAt = stopAtRedirectUri(rp);
  let page = await browser.follow(attempt.url, { stopAt });
  if (page.status === 200 && /name="password"/.test(page.body)) {
    assert.ok(username, 'the national login page was shown');
    page = await browser.submitForm(page.body, page.url, { username, password: demoPassword }, { stopAt });
  }
  return { attempt, page: await passConsent(browser, rp, page) };
}

/**
 * The company credit code is a sensitive item (issue 13): first-party apps too now show the
 * separate consent page after the company choice; this accepts it as it stands (every item ticked).
 * The app that is not first-party keeps its consent page for the tests to look at.
 */
export async function passConsent(browser: Browser, rp: RelyingParty, page: Page): Promise<Page> {
  if (rp.clientId === thirdPartyApp.client_id || page.status !== 200 || !/action="\/interaction\/[^"]+\/consent"/.test(page.body)) return page;
  assert.match(page.body, /name="sensitive" value="legal_person"/, 'the company credit code is asked separately');
  return browser.submitForm(page.body, page.url, {}, { stopAt: stopAtRedirectUri(rp) });
}

export function isChoicePage(page: Page): boolean {
  return page.status === 200 && /\/interaction\/[^/]+\/company$/.test(new URL(page.url).pathname) && /name="credit_code"/.test(page.body);
}

export async function choose(browser: Browser, rp: RelyingParty, page: Page, creditCode: string): Promise<Page> {
  return passConsent(browser, rp, await browser.submitForm(page.body, page.url, { credit_code: creditCode }, { stopAt: stopAtRedirectUri(rp) }));
}

export async function redeem(rp: RelyingParty, attempt: AuthorizationAttempt, page: Page) {
  assert.ok(page.location?.startsWith(rp.redirectUri), `reached the portal: ${page.status} ${page.url} ${page.body.slice(0, 200)}`);
  return oidc.authorizationCodeGrant(rp.config, new URL(page.location!), {
    pkceCodeVerifier: attempt.codeVerifier,
    expectedState: attempt.state,
    expectedNonce: attempt.nonce,
    idTokenExpected: true,
  });
}

/** Logs in through the choice page, choosing `creditCode`; returns the tokens and ID token claims. */
export async function loginAs(browser: Browser, rp: RelyingParty, username: string, creditCode: string, params: Record<string, string> = {}) {
  const { attempt, page } = await start(browser, rp, username, params);
  assert.ok(isChoicePage(page), `the choice page is shown: ${page.status} ${page.url}`);
  const tokens = await redeem(rp, attempt, await choose(browser, rp, page, creditCode));
  return { tokens, claims: decodeJwt(tokens.id_token!) };
}

export function expiryOf(federation: Federation, username: string, creditCode: string): number {
  const entities = federation.simulator.claimsOf(username).entities as Array<{ credit_code: string; mandate?: { expires_at: number } }>;
  const expires = entities.find((e) => e.credit_code === creditCode)?.mandate?.expires_at;
  assert.ok(typeof expires === 'number');
  return expires;
}

export function refusedWith(error: string, description?: RegExp) {
  return (e: { error?: string; error_description?: string }) => e.error === error && (!description || description.test(e.error_description ?? ''));
}
