/**
 * How a refused request is answered: 429 with Retry-After, an OAuth error body for programs and
 * the bilingual error page for people.
 */
import type { Context } from 'koa';
import { describeError, tongbanError, type TongbanError } from '../errors.ts';
import { errorPage } from '../pages/layout.ts';

/** The stable code people see on the page; clients get OAuth's `temporarily_unavailable`. */
export const tooManyRequestsCode = 'too_many_requests';
export const oauthErrorCode = 'temporarily_unavailable';

function wording(retryAfterSeconds: number) {
  return describeError(tooManyRequestsCode, { retryAfterSeconds });
}

/** Answers the request with 429 here (outside oidc-provider's own routes). */
export function respondTooMany(ctx: Context, retryAfterSeconds: number): void {
  const { message, messageZh } = wording(retryAfterSeconds);
  ctx.status = 429;
  ctx.set('retry-after', String(retryAfterSeconds));
  ctx.set('cache-control', 'no-store');
  if (ctx.accepts('html', 'json') === 'html') {
    ctx.type = 'html';
    ctx.body = errorPage({ code: tooManyRequestsCode, message, messageZh });
  } else {
    ctx.body = { error: oauthErrorCode, error_description: message };
  }
}

/** For a step deep in a flow (a person's logins): the error boundary renders it; the header is set here. */
export function tooManyRequests(ctx: Pick<Context, 'set'>, retryAfterSeconds: number): TongbanError {
  ctx.set('retry-after', String(retryAfterSeconds));
  return tongbanError(tooManyRequestsCode, { params: { retryAfterSeconds } });
}
