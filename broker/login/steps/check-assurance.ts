/**
 * Step 4 of the national return: the assurance level reached at the national platform must be at
 * least the one the app asked for (assurance-policy.ts); otherwise the authorization ends with
 * `unmet_authentication_requirements` and the person is told how to raise it.
 */
import { describeError } from '../../platform/errors.ts';
import { showRefusal } from '../refusal-page.ts';
import type { NationalReturnStep } from './flow.ts';
import { interactionResult } from './interaction-result.ts';

export const checkAssurance: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const { logger } = options;
  const pending = flow.pending!;
  const details = flow.interaction!;
  const achieved = flow.national!.identity.person.assurance;
  if (pending.level !== undefined && achieved < pending.level) {
    logger.info('assurance_unmet', { interaction: details.uid, requested: pending.level, achieved });
    const back = await interactionResult(flow, {
      error: 'unmet_authentication_requirements',
      error_description: `assurance level ${pending.level} was requested; ${achieved} was reached`,
    });
    showRefusal(ctx, describeError('assurance_too_low', { required: pending.level, achieved }), back);
    return;
  }
  await next();
};
