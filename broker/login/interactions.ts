/**
 * The broker's interaction routes: the login prompt goes to the national platform, the callback
 * comes back here, consent for apps that are not first-party, and pages for everything that fails.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { fromNational } from '../national/claims.ts';
import type { NationalPlatform } from '../national/upstream.ts';
import { ErrorCode, TongbanError, isTongbanError } from '../platform/errors.ts';
import { acrOf, nationalAcrOf, type AssuranceLevel } from '../identity/assurance.ts';
import type { Logger } from '../platform/log.ts';
import type { AccountStore } from '../accounts/records.ts';
import { accountIdOf, type Derive } from '../identity/subjects.ts';
import { readForm } from '../platform/http/body.ts';
import { errorPage, html, page } from '../platform/pages/layout.ts';
import { isStoreUnavailable } from '../platform/storage/guard.ts';
import type { Store } from '../platform/storage/types.ts';
import { requestedLevel } from './assurance-policy.ts';
import { describeOAuthError } from '../platform/pages/oauth-errors.ts';
import type { NationalLogin } from '../logout/sessions.ts';
import type { LegalPersons } from '../legal-person/index.ts';
import { companyChoicePath, companyPromptName } from '../legal-person/names.ts';

export interface InteractionOptions {
  readonly provider: Provider;
  readonly national: NationalPlatform;
  readonly store: Store;
  readonly accounts: AccountStore;
  readonly derive: Derive;
  readonly logger: Logger;
  readonly issuer: string;
  readonly sessionTtlSeconds: number;
  readonly interactionTtlSeconds: number;
  /** Company logins: keeps the national login for the company choice (docs/legal-persons.md). */
  readonly legalPersons?: LegalPersons;
}

interface PendingUpstream {
  readonly uid: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly level?: AssuranceLevel;
}

const pendingKey = (state: string) => `upstream:${state}`;

const scopeLabels: Record<string, { zh: string; en: string }> = {
  openid: { zh: '您在本应用中的匿名标识', en: 'an identifier for you in this application' },
  profile: { zh: '姓名、性别、出生日期', en: 'name, sex, date of birth' },
  phone: { zh: '手机号码', en: 'mobile phone number' },
  id_number: { zh: '证件类型和证件号码', en: 'document type and number' },
  legal_person: { zh: '您所代表的企业信息', en: 'the company you act for' },
  offline_access: { zh: '在您离开后继续访问（刷新令牌）', en: 'continued access after you leave (refresh token)' },
};

/** Renders broker errors as a page for people or JSON for programs; never a stack trace. */
export function errorBoundary(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      let status = 500;
      let code: string = ErrorCode.internal;
      let message = 'Something went wrong on our side; please try again later.';
      let messageZh = '系统出现内部错误，请稍后再试。';
      if (isTongbanError(error)) {
        ({ status, code, message, messageZh } = error);
        logger.warn('request_failed', { code, status, path: ctx.path, detail: error.detail });
      } else if (isStoreUnavailable(error)) {
        status = 503;
        code = ErrorCode.storeUnavailable;
        message = 'The service is temporarily unavailable; please try again later.';
        messageZh = error.messageZh;
        logger.warn('request_failed', { code, status, path: ctx.path });
      } else if (error instanceof errors.OIDCProviderError) {
        status = error.status;
        const described = describeOAuthError(error.error, error.error_description);
        ({ code, message, messageZh } = described);
        logger.info('request_failed', { code, status, path: ctx.path });
      } else {
        logger.error('request_crashed', { code, status, path: ctx.path, reason: (error as Error)?.name });
      }
      ctx.status = status;
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: code, error_description: message };
      } else {
        ctx.type = 'html';
        ctx.body = errorPage({ code, message, messageZh });
      }
    }
  };
}

export function createInteractionRouter(options: InteractionOptions): Router {
  const { provider, national, store, accounts, derive, logger } = options;
  const router = new Router();
  const callbackPath = '/national/callback';

  async function startNational(ctx: Context, uid: string, params: Record<string, unknown>, claims: unknown, forceLogin: boolean) {
    const level = requestedLevel(params, claims);
    const start = await national.start({ ...(level ? { acr: nationalAcrOf(level) } : {}), forceLogin });
    const pending: PendingUpstream = { uid, nonce: start.nonce, codeVerifier: start.codeVerifier, ...(level ? { level } : {}) };
    await store.set(pendingKey(start.state), pending, options.interactionTtlSeconds * 1000);
    logger.info('national_redirect', { interaction: uid, assurance: level });
    ctx.status = 303;
    ctx.redirect(start.url.href);
  }

  router.get('/interaction/:uid', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    const { prompt, params } = details;
    if (prompt.name === 'login') {
      const reasons = prompt.reasons;
      // A new national login is forced for prompt=login and max_age; a step-up lets the national
      // platform keep its session and ask only for the extra factor.
      const forceLogin = reasons.includes('login_prompt') || reasons.includes('max_age');
      await startNational(ctx, details.uid, params, typeof params.claims === 'string' ? safeJson(params.claims) : undefined, forceLogin);
      return;
    }
    if (prompt.name === 'consent') {
      const client = await provider.Client.find(String(params.client_id));
      if (!client) throw new errors.InvalidClient('client not found');
      const missing = (prompt.details.missingOIDCScope as string[] | undefined) ?? [];
      // Services (RFC 8707 resources) the app would call on the person's behalf, with their scopes.
      const services = Object.entries((prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {});
      ctx.type = 'html';
      ctx.body = page({
        title: '授权确认',
        titleEn: 'Share your information?',
        body: html`<p><strong>${client.clientName ?? client.clientId}</strong> 请求获取以下信息：</p>
<p class="en">${client.clientName ?? client.clientId} asks for:</p>
<ul>${missing.map((s) => html`<li>${scopeLabels[s]?.zh ?? s} <span class="en">· ${scopeLabels[s]?.en ?? s}</span></li>`)}${services.map(([service, scopes]) => html`<li class="service">代您访问 ${service}（${scopes.join(' ')}） <span class="en">· to call ${service} for you (${scopes.join(' ')})</span></li>`)}</ul>
<form method="post" action="/interaction/${details.uid}/consent">
<button type="submit" name="decision" value="allow">同意 · Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">拒绝 · Deny</button>
</form>`,
      });
      return;
    }
    if (prompt.name === companyPromptName && options.legalPersons) {
      // The company choice has its own page (broker/legal-person/routes.ts).
      ctx.status = 303;
      ctx.redirect(companyChoicePath(details.uid));
      return;
    }
    throw new TongbanError(ErrorCode.internal, { status: 500, message: 'Unknown interaction step.', detail: `prompt ${prompt.name}` });
  });

  router.post('/interaction/:uid/consent', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'consent') throw new errors.SessionNotFound('interaction mismatch');
    const form = await readForm(ctx);
    if (form.get('decision') !== 'allow') {
      await provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the person declined' }, { mergeWithLastSubmission: false });
      return;
    }
    const { prompt, params, session } = details;
    const grantId = details.grantId;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    if (!grant) throw new errors.SessionNotFound('grant expired');
    const scopes = prompt.details.missingOIDCScope as string[] | undefined;
    if (scopes?.length) grant.addOIDCScope(scopes.join(' '));
    const claims = prompt.details.missingOIDCClaims as string[] | undefined;
    if (claims?.length) grant.addOIDCClaims(claims);
    const resourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
    for (const [indicator, list] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, list.join(' '));
    const saved = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
  });

  const stateError = () => new TongbanError(ErrorCode.upstreamStateMismatch, {
    status: 400,
    message: 'This return from the national platform does not belong to a login in progress in this browser.',
    messageZh: '此次从国家政务服务平台返回的请求与本浏览器中进行的登录不符，已拒绝。请返回原服务重新登录。',
  });
  const stateOf = (ctx: Context) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
    if (!state || state.length > 200) throw stateError();
    return state;
  };

  // The registered redirect URI is fixed; the interaction cookie is scoped to /interaction/<uid>,
  // so the callback hands over to that path, where the cookie binds the answer to this browser.
  router.get(callbackPath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const pending = await store.get<PendingUpstream>(pendingKey(stateOf(ctx)));
    if (!pending) throw stateError();
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(pending.uid)}/national?${ctx.querystring}`);
  });

  router.get('/interaction/:uid/national', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const state = stateOf(ctx);
    // One-time: the first request with this state takes it, any replay finds nothing.
    if (!(await store.claim(`upstream-used:${state}`, options.interactionTtlSeconds * 1000))) throw stateError();
    const pending = await store.get<PendingUpstream>(pendingKey(state));
    await store.delete(pendingKey(state));
    if (!pending || pending.uid !== ctx.params.uid) throw stateError();
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      throw stateError();
    }
    if (details.uid !== pending.uid) throw stateError();

    const callbackUrl = new URL(`${callbackPath}?${ctx.querystring}`, options.issuer);
    let claims: Record<string, unknown>;
    let identity;
    let nationalAccessToken: string;
    let nationalAccessTokenExpiresAt: number | undefined;
    try {
      ({ claims, accessToken: nationalAccessToken, accessTokenExpiresAt: nationalAccessTokenExpiresAt } = await national.finish(callbackUrl, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier }));
      identity = fromNational(claims);
    } catch (error) {
      if (isTongbanError(error)) {
        logger.warn('national_login_failed', { code: error.code, interaction: details.uid, detail: error.detail });
        const back = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: 'national authentication failed' }, { mergeWithLastSubmission: false });
        ctx.status = error.status;
        ctx.type = 'html';
        ctx.body = errorPage({ code: error.code, message: error.message, messageZh: error.messageZh, back: { href: back, label: '返回服务', labelEn: 'Back to the service' } });
        return;
      }
      throw error;
    }

    const achieved = identity.person.assurance;
    if (pending.level !== undefined && achieved < pending.level) {
      logger.info('assurance_unmet', { interaction: details.uid, requested: pending.level, achieved });
      const back = await provider.interactionResult(ctx.req, ctx.res, {
        error: 'unmet_authentication_requirements',
        error_description: `assurance level ${pending.level} was requested; ${achieved} was reached`,
      }, { mergeWithLastSubmission: false });
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = errorPage({
        code: 'unmet_authentication_requirements',
        messageZh: `该服务要求实名认证等级 ${pending.level} 级，您本次在国家政务服务平台完成的认证为 ${achieved} 级。请到国家政务服务平台提升实名认证等级后再办理。`,
        message: `This service requires assurance level ${pending.level}; your authentication at the national platform reached level ${achieved}.`,
        back: { href: back, label: '返回服务', labelEn: 'Back to the service' },
      });
      return;
    }

    const accountId = accountIdOf(derive, identity.person.nationalSubject);
    await accounts.save(accountId, identity, options.sessionTtlSeconds);
    const keptForLegalPerson = await options.legalPersons?.rememberNationalLogin(details.uid, {
      accountId,
      identity,
      accessToken: nationalAccessToken,
      ...(nationalAccessTokenExpiresAt !== undefined ? { accessTokenExpiresAt: nationalAccessTokenExpiresAt } : {}),
      scope: typeof details.params.scope === 'string' ? details.params.scope : '',
    });
    logger.info('national_login', { interaction: details.uid, assurance: achieved });
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId, acr: acrOf(achieved), amr: [...identity.person.amr], ts: identity.person.authTime, remember: true },
      // Kept with the broker session by single logout (broker/logout): a national back-channel logout names it.
      national: (typeof claims.sid === 'string' ? { sid: claims.sid } : {}) satisfies NationalLogin,
      // Spares the resume a read of a legal-person record that was never written.
      ...(keptForLegalPerson === false ? { legalPerson: { kept: false } } : {}),
    }, { mergeWithLastSubmission: false });
  });

  return router;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

