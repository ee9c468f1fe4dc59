/**
 * Legal persons: a company acts through its legal representative or an authorised agent (经办人).
 *
 * A portal asks for the `legal_person` scope. After the national login the person chooses which
 * organisation to act for among those the national platform lists for them now; the choice lasts
 * for the broker session, `prompt=select_account` opens it again, and each grant (so each code,
 * token and rotated refresh token) keeps the company it was issued for.
 *
 * The broker keeps no register of people or companies, so it learns whether a mandate is still
 * current by asking the national platform again: the national access token of the login is kept
 * server-side with the session, and the national userinfo is asked at each use that must be current
 * (a new authorization for the app, a refresh, a legacy ticket, a company token at userinfo or
 * introspection). When that can no longer be asked
 * (token expired, session over, an answer that fails validation), the broker refuses rather than
 * guesses. See docs/legal-persons.md.
 */
import { errors } from 'oidc-provider';
import { currentRepresentations } from '../identity/model.ts';
import { asLegalPerson, companySubject, legalPersonSubjectOf, missingMandateScopes } from '../release/legal-person.ts';
import { sectorOf } from '../release/sectors.ts';
import { createGrantBindings } from './bindings.ts';
import { createLegalPersonChecks } from './checks.ts';
import type { LegalPersons, LegalPersonsOptions } from './contract.ts';
import { mandateEndedError, mandateScopesMissingError, notChosenError, notEligibleError, unverifiableError } from './errors.ts';
import { createLegalPersonKit, hasScope, pick, refused } from './kit.ts';
import { createMandateCheck } from './mandates.ts';
import { legalPersonScope } from './names.ts';
import { createSessionEntitlements } from './session-entitlements.ts';
import { createTokenUseCheck } from './token-use.ts';

export function createLegalPersons(options: LegalPersonsOptions): LegalPersons {
  const { derive, logger } = options;
  const kit = createLegalPersonKit(options);
  const { records, nowSeconds, remaining, wantsLegalPerson, saveChoice } = kit;
  const mandates = createMandateCheck(kit);
  const { confirm } = mandates;
  const entitlements = createSessionEntitlements(kit, mandates);
  const grants = createGrantBindings(kit, mandates);
  const { bindingOf, confirmForRefresh, legalPersonToken } = grants;
  const { prompt, loginCheck } = createLegalPersonChecks(kit, entitlements, grants);
  const { confirmInUse } = createTokenUseCheck(kit, mandates, grants);

  return {
    prompt,
    loginCheck,

    async rememberNationalLogin(interactionUid, facts) {
      // Most people act for no company: nothing to keep for them unless this app asks. A legal-person
      // app later in the same session finds no record and asks the national platform again, silently.
      // Apps asking for electronic licences need the national access token later too (broker/licences).
      const wantsLicences = facts.scope !== undefined && facts.scope.split(' ').some((s) => s.startsWith('licence:'));
      if (facts.scope !== undefined && facts.identity.representations.length === 0 && !hasScope(facts.scope, legalPersonScope) && !wantsLicences) return false;
      await records.savePendingLogin(interactionUid, {
        accountId: facts.accountId,
        nationalSubject: facts.identity.person.nationalSubject,
        nationalAccessToken: facts.accessToken,
        ...(facts.accessTokenExpiresAt !== undefined ? { nationalAccessTokenExpiresAt: facts.accessTokenExpiresAt } : {}),
        representations: facts.identity.representations,
        checkedAt: nowSeconds(),
      }, options.interactionTtlSeconds);
      return true;
    },

    async grantActsForChoice(ctx, grant) {
      const session = ctx.oidc.session;
      if (!wantsLegalPerson(ctx) || !grant.jti || !session) return true;
      const binding = await bindingOf(ctx, grant.jti);
      if (!binding) return true;
      const record = await records.session(session.uid);
      return record?.choice?.creditCode === binding.acting.creditCode;
    },

    async actingFor(ctx) {
      const token = legalPersonToken(ctx);
      if (!token) return undefined;
      let binding = await bindingOf(ctx, token.grantId);
      if (ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token') {
        binding = await confirmForRefresh(ctx, token.grantId, binding);
      } else if (!binding && ctx.oidc.route === 'token') {
        // A code for a company login whose company is unknown issues nothing.
        throw refused('the company chosen for this login is no longer known; sign in again');
      } else if (ctx.oidc.route === 'userinfo') {
        // A revoked mandate ends the company's access tokens at their next use, not at the next refresh.
        const use = await confirmInUse(ctx, token.grantId, binding, 'userinfo');
        if ('inactive' in use) throw new errors.InvalidToken(use.inactive === 'mandate_not_current' ? 'the mandate to act for this company has expired or was revoked' : 'the company mandate can no longer be confirmed');
        if (binding && use.acting) binding = { ...binding, acting: use.acting };
      }
      return binding ? asLegalPerson(binding.acting) : undefined;
    },

    async activeInUse(ctx) {
      const token = legalPersonToken(ctx);
      if (!token) return true;
      return !('inactive' in (await confirmInUse(ctx, token.grantId, await bindingOf(ctx, token.grantId), 'introspection')));
    },

    async actingForGrant(grantId) {
      const binding = await records.binding(grantId);
      return binding ? { creditCode: binding.acting.creditCode } : undefined;
    },

    async subjectFor(ctx, client) {
      if (!ctx?.oidc || legalPersonSubjectOf(client) !== 'company') return undefined;
      const token = legalPersonToken(ctx);
      const binding = token ? await bindingOf(ctx, token.grantId) : undefined;
      return binding ? companySubject(derive, sectorOf(client), binding.acting.creditCode) : undefined;
    },

    async checkActing({ sessionUid, creditCode }) {
      const record = await records.session(sessionUid);
      if (!record) throw unverifiableError('no national entitlements for the session');
      const confirmation = await confirm(record);
      if ('unverifiable' in confirmation) throw unverifiableError(confirmation.unverifiable);
      await records.saveSession(sessionUid, confirmation.record, remaining(confirmation.record));
      const wanted = creditCode ?? record.choice?.creditCode;
      if (!wanted) throw notChosenError();
      const current = pick(currentRepresentations(confirmation.record, nowSeconds()), wanted);
      if (!current) {
        logger.info('mandate_not_current', { code: 'mandate_not_current', at: 'legacy' });
        throw mandateEndedError('not listed as current by the national platform');
      }
      return asLegalPerson(current);
    },

    forgetSession: (sessionUid) => records.removeSession(sessionUid),

    async nationalAccessOf(sessionUid, accountId) {
      const record = await records.session(sessionUid);
      if (!record || record.accountId !== accountId) return undefined;
      if (record.nationalAccessTokenExpiresAt !== undefined && record.nationalAccessTokenExpiresAt <= nowSeconds()) return undefined;
      return { accessToken: record.nationalAccessToken, nationalSubject: record.nationalSubject };
    },

    async optionsFor(sessionUid, accountId) {
      const record = await records.session(sessionUid);
      if (!record || record.accountId !== accountId) return undefined;
      return { eligible: currentRepresentations(record, nowSeconds()), ...(record.choice ? { choice: record.choice } : {}) };
    },

    async choose(sessionUid, accountId, creditCode, requiredMandateScopes = []) {
      const record = await records.session(sessionUid);
      const chosen = record && record.accountId === accountId ? pick(currentRepresentations(record, nowSeconds()), creditCode) : undefined;
      if (!record || !chosen) throw notEligibleError();
      const missing = missingMandateScopes(chosen, requiredMandateScopes);
      if (missing.length) throw mandateScopesMissingError(missing);
      await saveChoice(sessionUid, record, chosen);
      return asLegalPerson(chosen);
    },
  };
}
