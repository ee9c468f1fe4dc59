/**
 * Step 6 of the national return: legal persons keep the national login (its access token and what
 * the person may represent) for the company choice of the session the interaction resumes.
 */
import type { NationalReturnStep } from './flow.ts';

export const handOffCompany: NationalReturnStep = async (flow, next) => {
  const { options } = flow;
  const { identity, accessToken, accessTokenExpiresAt } = flow.national!;
  const details = flow.interaction!;
  flow.keptForLegalPerson = await options.legalPersons?.rememberNationalLogin(details.uid, {
    accountId: flow.accountId!,
    identity,
    accessToken,
    ...(accessTokenExpiresAt !== undefined ? { accessTokenExpiresAt } : {}),
    scope: typeof details.params.scope === 'string' ? details.params.scope : '',
  });
  await next();
};
