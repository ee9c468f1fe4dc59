/**
 * Step 3 of the national return: the national connector exchanges the code and answers with the
 * canonical identity. A national refusal or an identity that fails validation ends the
 * authorization with `access_denied` and shows the person why, with a way back to the app.
 */
import { isTongbanError } from '../../platform/errors.ts';
import { errorPage } from '../../platform/pages/layout.ts';
import { callbackPath } from '../context.ts';
import type { NationalReturnStep } from './flow.ts';
import { interactionResult } from './interaction-result.ts';

export const exchangeCode: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const { national, logger } = options;
  const pending = flow.pending!;
  const details = flow.interaction!;
  const callbackUrl = new URL(`${callbackPath}?${ctx.querystring}`, options.issuer);
  try {
    flow.national = await national.finish(callbackUrl, { state: flow.state!, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
  } catch (error) {
    if (isTongbanError(error)) {
      logger.warn('national_login_failed', { code: error.code, interaction: details.uid, detail: error.detail });
      const back = await interactionResult(flow, { error: 'access_denied', error_description: 'national authentication failed' });
      ctx.status = error.status;
      ctx.type = 'html';
      ctx.body = errorPage({ code: error.code, message: error.message, messageZh: error.messageZh, back: { href: back, label: '返回服务', labelEn: 'Back to the service' } });
      return;
    }
    throw error;
  }
  await next();
};
