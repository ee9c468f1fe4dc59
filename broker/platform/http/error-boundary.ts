/**
 * The error boundary of every broker request: a TongbanError, an unavailable store or an
 * oidc-provider error becomes a page for people (in their language: layout.ts) or JSON for
 * programs, never a stack trace.
 */
import type { Context, Next } from 'koa';
import { errors } from 'oidc-provider';
import { describeError, isTongbanError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorPage } from '../pages/layout.ts';
import { describeOAuthError } from '../pages/oauth-errors.ts';
import { isStoreUnavailable } from '../storage/guard.ts';

/** Renders broker errors as a page for people or JSON for programs; never a stack trace. */
export function errorBoundary(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (error) {
      let { status, code, message, messageZh } = describeError('internal_error');
      let pageMessage: string | undefined;
      let technical: string | undefined;
      if (isTongbanError(error)) {
        ({ status, code, message, messageZh } = error);
        logger.warn('request_failed', { code, status, path: ctx.path, detail: error.detail });
      } else if (isStoreUnavailable(error)) {
        ({ status, code, message, messageZh } = describeError('store_unavailable'));
        logger.warn('request_failed', { code, status, path: ctx.path });
      } else if (error instanceof errors.OIDCProviderError) {
        status = error.status;
        const described = describeOAuthError(error.error, error.error_description);
        ({ code, message, messageZh, technical } = described);
        pageMessage = described.messageEn;
        logger.info('request_failed', { code, status, path: ctx.path });
      } else {
        logger.error('request_crashed', { code, status, path: ctx.path, reason: (error as Error)?.name });
      }
      ctx.status = status;
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: code, error_description: message };
      } else {
        ctx.type = 'html';
        ctx.body = errorPage({ code, message: pageMessage ?? message, messageZh, ...(technical ? { technical } : {}) });
      }
    }
  };
}
