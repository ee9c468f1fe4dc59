/**
 * The interaction-policy pieces of legal-person logins: a `login` check that asks for a (silent)
 * national login when the session's entitlements cannot be confirmed, and the `select_account`
 * prompt whose check asks the person to choose the company when none is chosen or bound, or when
 * the chosen one's mandate lacks the mandate scopes the app requires.
 */
import { interactionPolicy } from 'oidc-provider';
import { currentRepresentations } from '../identity/model.ts';
import { missingMandateScopes, requiredMandateScopesOf } from '../release/legal-person.ts';
import type { GrantBindings } from './bindings.ts';
import { mandateScopesMissingForClient } from './errors.ts';
import { pick, type LegalPersonKit } from './kit.ts';
import { companyPromptName } from './names.ts';
import type { SessionEntitlements } from './session-entitlements.ts';

export interface LegalPersonChecks {
  readonly prompt: interactionPolicy.Prompt;
  readonly loginCheck: interactionPolicy.Check;
}

export function createLegalPersonChecks(kit: LegalPersonKit, { adopt, fresh }: SessionEntitlements, { bind }: GrantBindings): LegalPersonChecks {
  const { nowSeconds, wantsLegalPerson, saveChoice } = kit;
  const { Check, Prompt } = interactionPolicy;

  const loginCheck = new Check(
    'legal_person_entitlements',
    'what the person may represent must be confirmed with the national platform',
    // Added to a prompt already built, so it does not inherit the prompt's error: name it.
    'login_required',
    async (ctx) => {
      await adopt(ctx);
      if (!wantsLegalPerson(ctx) || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
      return (await fresh(ctx)).stale ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    },
  );

  const selectCompany = new Check(
    'select_company',
    'the person must choose the company to act for',
    async (ctx) => {
      const session = ctx.oidc.session;
      if (!wantsLegalPerson(ctx) || !session?.accountId) return Check.NO_NEED_TO_PROMPT;
      let { record } = await fresh(ctx);
      if (!record) return Check.REQUEST_PROMPT;
      const eligible = currentRepresentations(record, nowSeconds());
      let chosen = record.choice ? pick(eligible, record.choice.creditCode) : undefined;
      // A legal representative of exactly one organisation has nothing to choose.
      if (!chosen && eligible.length === 1 && eligible[0]!.role === 'legal_representative') {
        chosen = eligible[0]!;
        record = await saveChoice(session.uid, record, chosen);
      }
      // An app may require mandate scopes: a choice whose mandate lacks them is asked again (the
      // choice page refuses it with a page naming them); prompt=none gets the OAuth error instead.
      const missing = chosen ? missingMandateScopes(chosen, requiredMandateScopesOf(ctx.oidc.client)) : [];
      if (missing.length) {
        if (ctx.oidc.prompts.has('none')) throw mandateScopesMissingForClient(missing);
        return Check.REQUEST_PROMPT;
      }
      if (!chosen) return Check.REQUEST_PROMPT;
      return (await bind(ctx, session.uid, record.accountId, chosen)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    },
  );

  return { prompt: new Prompt({ name: companyPromptName, requestable: true }, selectCompany), loginCheck };
}
