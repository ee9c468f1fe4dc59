/**
 * The page a login ends on when it is refused: why, and the way back to the app, where the
 * authorization has already ended with an OAuth error (`back` is where the browser resumes).
 */
import type { Context } from 'koa';
import type { ErrorDescription } from '../platform/errors.ts';
import { errorPage } from '../platform/pages/layout.ts';

export function showRefusal(ctx: Context, error: ErrorDescription, back: string): void {
  ctx.status = error.status;
  ctx.type = 'html';
  ctx.body = errorPage({ code: error.code, message: error.message, messageZh: error.messageZh, back: { href: back, label: '返回服务', labelEn: 'Back to the service' } });
}
