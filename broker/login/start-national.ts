/**
 * The `login` prompt: sends the browser to the national platform, asking for the assurance level
 * the request demands (and a fresh login after a sign-out in this browser), keeps what the return
 * must match (nonce, PKCE verifier, the sign-out time) under `state`, carries the person's language
 * (`ui_locales`), and binds the return to this browser with a cookie scoped to the callback (context.ts).
 */
import type { Context } from 'koa';
import { nationalAcrOf } from '../identity/assurance.ts';
import { requestedLevel } from './assurance-policy.ts';
import { readSignedOut } from '../logout/signed-out.ts';
import { currentLocale } from '../platform/i18n/index.ts';
import { callbackPath, nationalBindingCookie, pendingKey, type InteractionOptions, type PendingUpstream } from './context.ts';

export async function startNational(options: InteractionOptions, ctx: Context, uid: string, params: Record<string, unknown>, claims: unknown, forceLogin: boolean) {
  const { national, store, logger } = options;
  const level = requestedLevel(params, claims);
  // After a sign-out in this browser the national session may be the previous person's: ask again.
  const signedOut = readSignedOut(ctx, options.cookiePrefix ?? 'tongban');
  // The person's language as this request chose it (ui_locales, the switch, Accept-Language) goes along.
  const start = await national.start({ ...(level ? { acr: nationalAcrOf(level) } : {}), forceLogin: forceLogin || signedOut !== undefined, uiLocales: currentLocale() });
  const pending: PendingUpstream = { uid, nonce: start.nonce, codeVerifier: start.codeVerifier, ...(level ? { level } : {}), ...(signedOut ? { signedOutAt: signedOut.at } : {}) };
  await store.set(pendingKey(start.state), pending, options.interactionTtlSeconds * 1000);
  // The return runs at the callback itself, where the interaction cookie does not reach: this cookie
  // binds it to this browser (signed, so a sibling host cannot plant one).
  ctx.cookies.set(nationalBindingCookie(options.cookiePrefix ?? 'tongban', start.state), start.state, {
    path: callbackPath, httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure, maxAge: options.interactionTtlSeconds * 1000, overwrite: true,
  });
  logger.info('national_redirect', { interaction: uid, assurance: level });
  ctx.status = 303;
  ctx.redirect(start.url.href);
}
