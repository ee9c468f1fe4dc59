/**
 * Response headers for everything the broker serves. No other site may frame a broker page: the
 * consent, company choice and sign-out pages each act on one click, and a framed page could be
 * clicked through an overlay (clickjacking). Set before the handlers run, so oidc-provider's own
 * pages get them too (its form_post page adds its script hash to this policy only when it has a
 * `script-src`, which this one has not).
 */
import type { Context, Next } from 'koa';

/** Not async: nothing to do after the handlers, so their promise is passed on as it is. */
export function securityHeaders(ctx: Context, next: Next): Promise<unknown> {
  ctx.set('content-security-policy', "frame-ancestors 'none'");
  ctx.set('x-frame-options', 'DENY');
  ctx.set('x-content-type-options', 'nosniff');
  return next();
}
