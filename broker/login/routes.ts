/**
 * The broker's interaction routes (route table in README.md): the login prompt goes to the national
 * platform, the callback comes back here and runs the national-return steps, consent (every app's
 * sensitive items, and everything for apps that are not first-party), and the company choice has
 * its own page (company-choice.ts).
 */
import Router from '@koa/router';
import { errors } from 'oidc-provider';
import { companyChoicePath, companyPromptName } from '../legal-person/index.ts';
import { tongbanError } from '../platform/errors.ts';
import { decideConsent, showConsent } from './consent.ts';
import { callbackPath, nationalBindingCookie, pendingKey, type InteractionOptions, type PendingUpstream } from './context.ts';
import { interactionDetails } from './interaction.ts';
import { nationalReturn } from './national-return.ts';
import { signedCookieOnce } from './signed-cookie.ts';
import { stateError, stateOf } from './national-state.ts';
import { startNational } from './start-national.ts';
import { routePath, routes } from '../../config/defaults.ts';

export type { InteractionOptions } from './context.ts';

export function createInteractionRouter(options: InteractionOptions): Router {
  const { provider, store } = options;
  const router = new Router();

  router.get(routes.interaction.start, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const details = await interactionDetails(provider, ctx);
    if (details.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    const { prompt, params } = details;
    if (prompt.name === 'login') {
      const reasons = prompt.reasons;
      // A new national login is forced for prompt=login and max_age; a step-up lets the national
      // platform keep its session and ask only for the extra factor.
      const forceLogin = reasons.includes('login_prompt') || reasons.includes('max_age');
      await startNational(options, ctx, details.uid, params, typeof params.claims === 'string' ? safeJson(params.claims) : undefined, forceLogin);
      return;
    }
    if (prompt.name === 'consent') {
      await showConsent(options, ctx, details);
      return;
    }
    if (prompt.name === companyPromptName && options.legalPersons) {
      // The company choice has its own page (company-choice.ts).
      ctx.status = 303;
      ctx.redirect(companyChoicePath(details.uid));
      return;
    }
    throw tongbanError('interaction_step_unknown', { detail: `prompt ${prompt.name}` });
  });

  router.post(routes.interaction.consent, (ctx) => decideConsent(provider, ctx, options.consents));

  // The registered redirect URI is fixed. The return runs right here, bound to this browser by the
  // cookie the redirect to the national platform set (context.ts): no hop to the interaction's path.
  // A login started by an earlier version has no such cookie: it hands over to the interaction's
  // path, where the path-scoped interaction cookie binds it instead.
  router.get(callbackPath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const state = stateOf(ctx);
    const bound = signedCookieOnce(ctx, nationalBindingCookie(options.cookiePrefix ?? 'tongban', state));
    if (bound !== undefined) {
      await nationalReturn(options, ctx, bound);
      return;
    }
    const pending = await store.get<PendingUpstream>(pendingKey(state));
    if (!pending) throw stateError();
    ctx.status = 303;
    ctx.redirect(`${routePath(routes.interaction.national, pending.uid)}?${ctx.querystring}`);
  });

  router.get(routes.interaction.national, (ctx) => nationalReturn(options, ctx));

  return router;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
