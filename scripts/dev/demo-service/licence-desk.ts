/**
 * 材料免交 at the demo 公积金 service: its withdrawal desk signs the person in through tongban (an
 * OpenID Connect client of its own, entitled to `licence:id_card` and `licence:household_register`),
 * fetches the licences the person consented to from tongban's `GET /licences`, verifies each one with
 * `tongban/verify`'s licence verifier against the issuing authority's published key, and shows them
 * verified — and what the person therefore did not have to photograph and upload. Nothing is kept
 * beyond the person's session in this process's memory.
 */
import type Koa from 'koa';
import type Router from '@koa/router';
import * as oidc from 'openid-client';
import { routes } from '../../../config/defaults.ts';
import { brokerDiscovery, cookieSessions } from '../relying-party.ts';
import { createLicenceVerifier, isLicenceError, type VerifiedLicence } from '../../../broker/verify/index.ts';
import { deadEndPage, demoPage, escapeHtml } from '../demo-portal/layout.ts';
import { demoLanguage, type DemoLanguage } from '../demo-portal/messages.ts';
import { deskText, type DeskKey } from './desk-messages.ts';

export interface LicenceDeskOptions {
  readonly brokerIssuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Public base URL of the service, e.g. http://127.0.0.1:3300 */
  readonly baseUrl: string;
  /** The national licence library, e.g. http://127.0.0.1:3100/licence-library */
  readonly licenceLibrary: string;
}

/** The licences the desk asks for instead of paper copies. */
export const deskLicenceScopes = ['licence:id_card', 'licence:household_register'] as const;

interface Checked {
  readonly type: string;
  readonly licence?: VerifiedLicence;
  readonly failure?: string;
}

interface DeskSession {
  pending?: { state: string; nonce: string; codeVerifier: string };
  checked?: readonly Checked[];
  fetchError?: string;
}

/** ID number claims in each province's dialect (the desk is 上海's, but any member could run it). */
const idNumberClaims = ['zwdtswCertId', 'idnum', 'papersNumber', 'wst_cert_no'];

/** Keeps the first three and last two characters: enough to recognise, not to copy. */
export function maskNumber(value: string): string {
  if (value.length <= 6) return '*'.repeat(value.length);
  return `${value.slice(0, 3)}${'*'.repeat(value.length - 5)}${value.slice(-2)}`;
}

export function mountLicenceDesk(router: Router, options: LicenceDeskOptions): void {
  const sessions = cookieSessions<DeskSession>('demo_fund_desk_sid');
  const redirectUri = new URL('/callback', options.baseUrl).href;
  const verifier = createLicenceVerifier({ library: options.licenceLibrary });
  const discover = brokerDiscovery({ brokerIssuer: options.brokerIssuer, clientId: options.clientId, clientSecret: options.clientSecret, redirectUri });
  const sessionOf = (ctx: Koa.Context): DeskSession => sessions.of(ctx);
  const t = (language: DemoLanguage, key: DeskKey) => escapeHtml(deskText(language, key));
  const site = (language: DemoLanguage) => deskText(language, 'site');
  const deadEnd = (ctx: Koa.Context, language: DemoLanguage, message: DeskKey) => {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = deadEndPage({ language, site: site(language), title: deskText(language, 'deadEnd'), message: deskText(language, message), path: '/',
      ways: [{ href: '/login', label: deskText(language, 'again'), id: 'sign-in-again' }, { href: '/', label: deskText(language, 'home'), id: 'home' }] });
  };

  /** One card per licence (a two-column table reads on a phone; five columns do not). */
  const licenceCards = (language: DemoLanguage, checked: readonly Checked[]) => `<div id="licences">${checked.map((c) => {
    const row = (key: DeskKey, value: string, cls = '') => `<tr><th scope="row">${t(language, key)}</th><td${cls ? ` class="${cls}"` : ''}>${value}</td></tr>`;
    return c.licence
      ? `<section class="licence" data-licence="${escapeHtml(c.type)}"><h3>${escapeHtml(c.licence.name)}</h3><table><tbody>
${row('issuer', escapeHtml(c.licence.issuer.name))}${row('number', escapeHtml(maskNumber(c.licence.number)))}${row('validity', `${escapeHtml(c.licence.issuedOn)} – ${escapeHtml(c.licence.validUntil)}`)}${row('check', `✓ ${t(language, 'verified')}`, 'ok')}</tbody></table></section>`
      : `<section class="licence" data-licence="${escapeHtml(c.type)}"><h3>${escapeHtml(c.type)}</h3><table><tbody>${row('check', `✗ ${t(language, 'notVerified')} (${escapeHtml(c.failure)})`, 'bad')}</tbody></table></section>`;
  }).join('')}</div>`;

  router.get('/', (ctx) => {
    const language = demoLanguage(ctx);
    const session = sessionOf(ctx);
    const checked = session.checked;
    const allVerified = checked !== undefined && checked.length === deskLicenceScopes.length && checked.every((c) => c.licence);
    const body = checked
      ? `<div class="card"><h2>${t(language, 'received')}</h2>${licenceCards(language, checked)}
<p class="why">${t(language, 'howVerified')}</p></div>
${allVerified ? `<div class="card" id="not-uploaded"><h2>${t(language, 'notUploadedTitle')}</h2><ul><li>${t(language, 'noIdPhoto')}</li><li>${t(language, 'noHouseholdCopy')}</li><li>${t(language, 'noCounter')}</li></ul><p class="why">${t(language, 'kept')}</p></div>` : `<div class="card" role="alert"><p class="bad">${t(language, 'someMissing')}</p></div>`}
<p><a class="button secondary" href="/login">${t(language, 'again')}</a> <a class="button secondary" id="account" href="${escapeHtml(new URL(routes.account, options.brokerIssuer).href)}">${t(language, 'account')}</a></p>`
      : `<div class="card"><p>${t(language, 'intro')}</p><ul><li>${t(language, 'needIdCard')}</li><li>${t(language, 'needHousehold')}</li></ul>
<p>${t(language, 'instead')}</p><p><a class="button" id="desk-login" href="/login">${t(language, 'start')}</a></p>
${session.fetchError ? `<p class="bad" role="alert">${escapeHtml(session.fetchError)}</p>` : ''}</div>`;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = demoPage({ language, site: site(language), title: deskText(language, 'title'), body, path: '/' });
  });

  router.get('/login', async (ctx) => {
    const language = demoLanguage(ctx);
    const config = await discover();
    const session = sessionOf(ctx);
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    session.pending = pending;
    ctx.redirect(oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: ['openid', 'profile', 'id_number', ...deskLicenceScopes].join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ui_locales: language,
    }).href);
  });

  router.get('/callback', async (ctx) => {
    const language = demoLanguage(ctx);
    const session = sessionOf(ctx);
    const pending = session.pending;
    session.pending = undefined;
    if (!pending) {
      if (session.checked) return ctx.redirect('/');
      return deadEnd(ctx, language, 'noLogin');
    }
    if (ctx.query.state !== pending.state) return deadEnd(ctx, language, 'tampered');
    if (ctx.query.error === 'access_denied') return deadEnd(ctx, language, 'cancelled');
    try {
      const config = await discover();
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.baseUrl), {
        pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
      });
      const claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)), ...tokens.claims() } as Record<string, unknown>;
      const holder = idNumberClaims.map((name) => claims[name]).find((v): v is string => typeof v === 'string');
      const response = await fetch(new URL(routes.licences, options.brokerIssuer), { headers: { authorization: `Bearer ${tokens.access_token}` } });
      const answer = (await response.json()) as { licences?: Array<{ type: string; document: string }>; error?: string };
      if (response.status !== 200 || !answer.licences) {
        session.checked = undefined;
        session.fetchError = deskText(language, 'fetchFailed').replace('{code}', answer.error ?? String(response.status));
        return ctx.redirect('/');
      }
      session.fetchError = undefined;
      session.checked = await Promise.all(answer.licences.map(async ({ type, document }): Promise<Checked> => {
        if (!holder) return { type, failure: 'no ID number released' };
        try {
          return { type, licence: await verifier.verify(document, { holder, type }) };
        } catch (error) {
          return { type, failure: isLicenceError(error) ? error.code : 'ERR_LICENCE_MALFORMED' };
        }
      }));
      ctx.redirect('/');
    } catch {
      deadEnd(ctx, language, 'failed');
    }
  });
}
