/**
 * Step 7 of the national return: the interaction ends with the login (account, acr, amr, time),
 * the national session id for single logout, and whether legal persons kept anything; the browser
 * goes on to resume the authorization (303, as oidc-provider's `interactionFinished`).
 */
import { acrOf } from '../../identity/assurance.ts';
import type { NationalLogin } from '../../logout/sessions.ts';
import type { NationalReturnStep } from './flow.ts';
import { interactionResult } from './interaction-result.ts';

export const finishLogin: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const { identity, sid } = flow.national!;
  const details = flow.interaction!;
  const achieved = identity.person.assurance;
  options.logger.info('national_login', { interaction: details.uid, assurance: achieved });
  const resume = await interactionResult(flow, {
    login: { accountId: flow.accountId!, acr: acrOf(achieved), amr: [...identity.person.amr], ts: identity.person.authTime, remember: true },
    // Kept with the broker session by single logout (broker/logout): a national back-channel logout names it.
    national: (sid !== undefined ? { sid } : {}) satisfies NationalLogin,
    // Spares the resume a read of a legal-person record that was never written.
    ...(flow.keptForLegalPerson === false ? { legalPerson: { kept: false } } : {}),
  });
  ctx.status = 303;
  ctx.redirect(resume);
  await next();
};
