/**
 * The return from the national platform (`/interaction/:uid/national`), as a list of small named
 * steps run in order, the way oidc-provider lists its authorization steps. Each step is one file
 * under steps/; a step that answers the browser itself (a refusal page) ends the list there.
 */
import type { Context } from 'koa';
import type { InteractionOptions } from './context.ts';
import { checkAssurance } from './steps/check-assurance.ts';
import { claimState } from './steps/claim-state.ts';
import { exchangeCode } from './steps/exchange-code.ts';
import { freshAfterSignOut } from './steps/fresh-after-sign-out.ts';
import { finishLogin } from './steps/finish-login.ts';
import type { NationalReturn, NationalReturnStep } from './steps/flow.ts';
import { limitPerson } from './steps/limit-person.ts';
import { handOffCompany } from './steps/hand-off-company.ts';
import { readPending } from './steps/read-pending.ts';
import { saveAccount } from './steps/save-account.ts';

export const nationalReturnSteps: readonly NationalReturnStep[] = [
  claimState, //     the `state` is taken once: replays are refused
  readPending, //    the login this browser started, and its interaction
  exchangeCode, //   the connector exchanges the code: the canonical identity
  freshAfterSignOut, // after a sign-out in this browser, only a newer national authentication
  limitPerson, //    one person's logins are rate-limited
  checkAssurance, // the level reached is at least the one asked for
  saveAccount, //    the identity is kept for the session, under the account id
  handOffCompany, // legal persons keep the national login for the company choice
  finishLogin, //    the interaction ends with the login
];

/** `bound`: at the callback, the value of the binding cookie, its signature already checked. */
export async function nationalReturn(options: InteractionOptions, ctx: Context, bound?: string): Promise<void> {
  const flow: NationalReturn = { ctx, options, ...(bound !== undefined ? { bound } : {}) };
  const run = async (index: number): Promise<void> => {
    const step = nationalReturnSteps[index];
    if (step) await step(flow, () => run(index + 1));
  };
  await run(0);
}
