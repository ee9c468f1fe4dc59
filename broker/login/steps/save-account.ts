/**
 * Step 5 of the national return: the canonical identity is saved under the broker account id (a
 * keyed hash of the national subject) for the session's lifetime; no register of people.
 */
import { accountIdOf } from '../../identity/subjects.ts';
import type { NationalReturnStep } from './flow.ts';

export const saveAccount: NationalReturnStep = async (flow, next) => {
  const { options } = flow;
  const { identity } = flow.national!;
  const accountId = accountIdOf(options.derive, identity.person.nationalSubject);
  await options.accounts.save(accountId, identity, options.sessionTtlSeconds);
  flow.accountId = accountId;
  await next();
};
