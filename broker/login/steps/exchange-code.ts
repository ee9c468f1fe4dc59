/**
 * Step 3 of the national return: the national connector exchanges the code and answers with the
 * canonical identity. When the national platform answers `access_denied` (the person cancelled, or
 * the platform declined), the app gets `access_denied` at once: the app is where the person goes on
 * from, so one page says so, not two in a row. Anything else that fails (a token that does not
 * verify, an identity that fails validation, the platform down) ends the authorization the same
 * way but first shows the person why, with a way back to the app.
 */
import { isTongbanError } from '../../platform/errors.ts';
import { callbackPath } from '../context.ts';
import { showRefusal } from '../refusal-page.ts';
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
      if (error.code === 'upstream_denied') {
        ctx.status = 303;
        ctx.redirect(back);
        return;
      }
      showRefusal(ctx, error, back);
      return;
    }
    throw error;
  }
  await next();
};
