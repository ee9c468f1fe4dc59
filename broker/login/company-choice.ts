/**
 * `/interaction/:uid/company`: the page where the person chooses the company to act for, and its
 * form. Every request reads the interaction (interaction.ts), which checks its uid against the
 * path-scoped interaction cookie: a choice can only ever be made for this browser's own login and
 * session.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { isTongbanError, type TongbanError } from '../platform/errors.ts';
import { readForm } from '../platform/http/body.ts';
import type { Logger } from '../platform/log.ts';
import { errorPage } from '../platform/pages/layout.ts';
import { LegalPersonError, companyChoicePath, companyPromptName, legalPersonScope, noCompanyError, unverifiableError, type LegalPersons } from '../legal-person/index.ts';
import { companyChoicePage } from './company-page.ts';
import { endInteraction, finishInteraction, interactionDetails, type InteractionDetails } from './interaction.ts';
import { showRefusal } from './refusal-page.ts';
import { requiredMandateScopesOf } from '../release/legal-person.ts';
import { routes } from '../../config/defaults.ts';

export interface LegalPersonRouterOptions {
  readonly provider: Provider;
  readonly legalPersons: LegalPersons;
  readonly logger: Logger;
}

export function createLegalPersonRouter({ provider, legalPersons, logger }: LegalPersonRouterOptions): Router {
  const router = new Router();

  async function interaction(ctx: Context) {
    const details = await interactionDetails(provider, ctx);
    if (details.uid !== ctx.params.uid || details.prompt.name !== companyPromptName) throw new errors.SessionNotFound('interaction mismatch');
    return details;
  }

  /** Ends the interaction with an error for the portal, and shows the person why, with a way back. */
  async function refuse(ctx: Context, details: InteractionDetails, error: TongbanError, description: string) {
    const back = await endInteraction(details, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
    showRefusal(ctx, error, back);
  }

  router.get(routes.interaction.company, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const details = await interaction(ctx);
    const { params, session } = details;
    if (!String(params.scope ?? '').split(' ').includes(legalPersonScope)) {
      // prompt=select_account on a natural-person login: there is nothing to choose.
      await finishInteraction(ctx, details, { [companyPromptName]: {} }, { mergeWithLastSubmission: true });
      return;
    }
    const options = session?.uid && session.accountId ? await legalPersons.optionsFor(session.uid, session.accountId) : undefined;
    if (!options) {
      logger.warn('legal_person_refused', { code: LegalPersonError.unverifiable, interaction: details.uid });
      await refuse(ctx, details, unverifiableError(), 'what the person may represent could not be confirmed with the national platform');
      return;
    }
    if (options.eligible.length === 0) {
      logger.info('legal_person_refused', { code: LegalPersonError.none, interaction: details.uid });
      await refuse(ctx, details, noCompanyError(), 'the person may act for no company or organisation now');
      return;
    }
    const client = await provider.Client.find(String(params.client_id));
    ctx.type = 'html';
    ctx.body = companyChoicePage({
      action: companyChoicePath(details.uid),
      clientName: client?.clientName ?? String(params.client_id),
      eligible: options.eligible,
      ...(options.choice ? { selected: options.choice.creditCode } : {}),
    });
  });

  router.post(routes.interaction.company, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const details = await interaction(ctx);
    const form = await readForm(ctx);
    if (form.get('decision') === 'cancel') {
      await finishInteraction(ctx, details, { error: 'access_denied', error_description: 'the person cancelled the company choice' }, { mergeWithLastSubmission: false });
      return;
    }
    const { session } = details;
    if (!session?.uid || !session.accountId) throw new errors.SessionNotFound('interaction without a session');
    const creditCode = (form.get('credit_code') ?? '').trim().slice(0, 64);
    let chosen;
    try {
      const client = await provider.Client.find(String(details.params.client_id));
      chosen = await legalPersons.choose(session.uid, session.accountId, creditCode, requiredMandateScopesOf(client));
    } catch (error) {
      if (isTongbanError(error) && error.code === LegalPersonError.mandateScopes) {
        // The app requires mandate scopes this company's mandate lacks: a page naming them; the portal gets access_denied.
        logger.info('legal_person_refused', { code: error.code, interaction: details.uid });
        await refuse(ctx, details, error, `the mandate to act for the company lacks the scopes this app requires: ${String(error.params.missing)}`);
        return;
      }
      if (!isTongbanError(error) || error.code !== LegalPersonError.notEligible) throw error;
      // Nothing is issued: the interaction stays open, the person may choose again from the list.
      logger.warn('legal_person_refused', { code: error.code, interaction: details.uid });
      ctx.status = error.status;
      ctx.type = 'html';
      ctx.body = errorPage({
        code: error.code,
        message: error.message,
        messageZh: error.messageZh,
        back: { href: companyChoicePath(details.uid), label: '重新选择', labelEn: 'Choose again' },
      });
      return;
    }
    logger.info('legal_person_chosen', { interaction: details.uid, role: chosen.role });
    await finishInteraction(ctx, details, { [companyPromptName]: { role: chosen.role } }, { mergeWithLastSubmission: true });
  });

  return router;
}
