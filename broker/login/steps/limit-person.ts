/**
 * Step 3b of the national return: logins of one person (their national subject, hashed into the
 * limit's key) are rate-limited, so a stolen national session cannot be turned into an unbounded
 * stream of broker sessions. Over the limit: 429 with Retry-After and the bilingual page.
 */
import { respondTooMany } from '../../platform/rate-limit/index.ts';
import type { NationalReturnStep } from './flow.ts';

export const limitPerson: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  if (options.rateLimits) {
    const verdict = await options.rateLimits.hit('person.login', flow.national!.identity.person.nationalSubject);
    if (!verdict.allowed) {
      options.logger.warn('login_rate_limited', { interaction: flow.interaction?.uid });
      respondTooMany(ctx, verdict.retryAfterSeconds);
      return;
    }
  }
  await next();
};
