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
 * (a new authorization for the app, a refresh, a legacy ticket). When that can no longer be asked
 * (token expired, session over, an answer that fails validation), the broker refuses rather than
 * guesses. See docs/legal-persons.md.
 */
import { errors, interactionPolicy, type Client, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import { ErrorCode, isTongbanError } from '../platform/errors.ts';
import { currentRepresentations, type CanonicalIdentity, type LegalPerson, type Representation } from '../identity/model.ts';
import type { Logger } from '../platform/log.ts';
import { representationsOf } from '../national/claims.ts';
import type { NationalPlatform } from '../national/upstream.ts';
import { sectorOf } from '../release/oidc.ts';
import type { Store } from '../platform/storage/types.ts';
import type { Derive } from '../identity/subjects.ts';
import { asLegalPerson, companySubject, legalPersonSubjectOf } from '../release/legal-person.ts';
import { NationalUnreachable, mandateEndedError, notChosenError, notEligibleError, unverifiableError } from './errors.ts';
import { companyPromptName, legalPersonScope } from './names.ts';
import { createLegalPersonRecords, type CompanyChoice, type GrantBinding, type SessionRecord } from './records.ts';

export { LegalPersonError } from './errors.ts';
export { legalPersonClaims, legalPersonClaimsByScope, legalPersonSubjectOf, legalPersonSubjects, isLegalPersonSubject, legalPersonSubjectProperty, type LegalPersonSubject } from '../release/legal-person.ts';
export { createLegalPersonRouter } from './routes.ts';
export { companyChoicePath, companyPromptName, legalPersonScope } from './names.ts';

export interface LegalPersonsOptions {
  readonly store: Store;
  readonly national: NationalPlatform;
  readonly derive: Derive;
  readonly logger: Logger;
  readonly sessionTtlSeconds: number;
  readonly interactionTtlSeconds: number;
  readonly grantTtlSeconds: number;
  /** Epoch milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** What the national callback hands over for a person who has just logged in. */
export interface NationalLoginFacts {
  readonly accountId: string;
  readonly identity: CanonicalIdentity;
  readonly accessToken: string;
  readonly accessTokenExpiresAt?: number;
  /** The scope the app asked for; when given, a person who may act for no company is kept only if it names `legal_person`. */
  readonly scope?: string;
}

export interface CompanyOptions {
  /** What the person may act for now (expired and revoked mandates are never in it). */
  readonly eligible: readonly Representation[];
  readonly choice?: CompanyChoice;
}

export interface CheckActingRequest {
  /** The broker session (oidc-provider's `session.uid`) the ticket or request belongs to. */
  readonly sessionUid: string;
  /** The organisation to check; default: the one chosen in the session. */
  readonly creditCode?: string;
}

export interface LegalPersons {
  /** The `select_account` prompt, to add to the interaction policy after `login`. */
  readonly prompt: interactionPolicy.Prompt;
  /** A `login` check: asks for a (silent) national login when the session's entitlements cannot be confirmed. */
  readonly loginCheck: interactionPolicy.Check;
  /** At the national callback: keeps the national login for the session the interaction resumes; false when there was nothing to keep. */
  rememberNationalLogin(interactionUid: string, facts: NationalLoginFacts): Promise<boolean>;
  /** For `loadExistingGrant`: false when the grant acts for another company than the session's choice. */
  grantActsForChoice(ctx: KoaContextWithOIDC, grant: Grant): Promise<boolean>;
  /**
   * The company the token being used or issued acts for. On a refresh, the mandate is confirmed
   * with the national platform first, and an ended one refuses the refresh with `invalid_grant`.
   */
  actingFor(ctx: KoaContextWithOIDC): Promise<LegalPerson | undefined>;
  /** The company's pairwise subject, for apps that registered `legal_person_subject: company`. */
  subjectFor(ctx: KoaContextWithOIDC | undefined, client: Client): Promise<string | undefined>;
  /**
   * For the legacy ticket bridges: confirms with the national platform, now, that the session may
   * still act for the company. Resolves with the company; throws a TongbanError otherwise
   * (`mandate_not_current`, `mandate_unverifiable`, `legal_person_not_chosen`, `upstream_*`).
   *
   * @example
   * const company = await broker.legalPersons.checkActing({ sessionUid });
   */
  checkActing(request: CheckActingRequest): Promise<LegalPerson>;
  /**
   * Drops what the session knew of the national side (its national access token included), when
   * the broker session ends. Company refresh tokens of the session cannot be confirmed afterwards.
   */
  forgetSession(sessionUid: string): Promise<void>;
  /** The choice page's list, as last confirmed (undefined when the session has no national answer). */
  optionsFor(sessionUid: string, accountId: string): Promise<CompanyOptions | undefined>;
  /** Records the person's choice; throws `legal_person_not_eligible` for anything not in the list. */
  choose(sessionUid: string, accountId: string, creditCode: string): Promise<LegalPerson>;
}

/** Within one authorization (its redirects through login, choice and consent) one national answer serves. */
const withinFlowSeconds = 60;

type Confirmation = { readonly record: SessionRecord } | { readonly unverifiable: string };

function hasScope(scope: string | undefined, wanted: string): boolean {
  return typeof scope === 'string' && scope.split(' ').includes(wanted);
}

/** The representation for a credit code, a legal representative's before an agent's. */
function pick(eligible: readonly Representation[], creditCode: string): Representation | undefined {
  const matches = eligible.filter((r) => r.creditCode === creditCode);
  return matches.find((r) => r.role === 'legal_representative') ?? matches[0];
}

function refused(description: string): errors.OIDCProviderError {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
}

export function createLegalPersons(options: LegalPersonsOptions): LegalPersons {
  const { national, derive, logger } = options;
  const records = createLegalPersonRecords(options.store);
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);
  const { Check, Prompt } = interactionPolicy;

  const remaining = (record: SessionRecord) => Math.max(1, record.until - nowSeconds());
  const wantsLegalPerson = (ctx: KoaContextWithOIDC) => ctx.oidc.requestParamScopes.has(legalPersonScope);

  /** Asks the national platform what the person may represent now. Unreachable → throws. */
  async function confirm(record: SessionRecord): Promise<Confirmation> {
    const now = nowSeconds();
    if (record.nationalAccessTokenExpiresAt !== undefined && record.nationalAccessTokenExpiresAt <= now + 5) {
      return { unverifiable: 'national access token expired' };
    }
    let claims: Record<string, unknown>;
    try {
      claims = await national.userinfo(record.nationalAccessToken, record.nationalSubject);
    } catch (error) {
      if (isTongbanError(error) && (error.code === ErrorCode.upstreamUnavailable || error.code === ErrorCode.upstreamTimeout)) throw error;
      return { unverifiable: `national userinfo refused (${isTongbanError(error) ? error.code : 'error'})` };
    }
    try {
      return { record: { ...record, representations: representationsOf(claims), checkedAt: now } };
    } catch (error) {
      return { unverifiable: `national entities invalid (${isTongbanError(error) ? error.code : 'error'})` };
    }
  }

  /** `confirm` for oidc-provider's endpoints: an unreachable national platform is `temporarily_unavailable`. */
  async function confirmInProvider(record: SessionRecord): Promise<Confirmation> {
    try {
      return await confirm(record);
    } catch (error) {
      logger.warn('mandate_check_unavailable', { code: isTongbanError(error) ? error.code : 'error' });
      throw new NationalUnreachable(error);
    }
  }

  // Per-request memos: the checks, loadExistingGrant, findAccount and pairwiseIdentifier of one
  // request share one store read and one national answer.
  const adoptions = new WeakMap<object, Promise<SessionRecord | undefined>>();
  const freshness = new WeakMap<object, Promise<Fresh>>();
  const bindings = new WeakMap<object, Map<string, Promise<GrantBinding | undefined>>>();

  /** Moves the national login of the interaction just resumed onto the session (the choice is kept). */
  function adopt(ctx: KoaContextWithOIDC): Promise<SessionRecord | undefined> {
    let memo = adoptions.get(ctx);
    if (!memo) {
      memo = (async () => {
        const session = ctx.oidc.session;
        const interactionUid = ctx.oidc.entities.Interaction?.uid;
        if (ctx.oidc.route !== 'resume' || !ctx.oidc.result?.login || !interactionUid || !session?.accountId) return undefined;
        // The national callback said it kept nothing (results of earlier versions say nothing: read).
        if ((ctx.oidc.result as { legalPerson?: { kept?: boolean } }).legalPerson?.kept === false) return undefined;
        const pending = await records.takePendingLogin(interactionUid);
        if (!pending || pending.accountId !== session.accountId) return undefined;
        const previous = await records.session(session.uid);
        const record: SessionRecord = {
          ...pending,
          until: nowSeconds() + options.sessionTtlSeconds,
          ...(previous?.accountId === pending.accountId && previous.choice ? { choice: previous.choice } : {}),
        };
        await records.saveSession(session.uid, record, remaining(record));
        return record;
      })();
      adoptions.set(ctx, memo);
    }
    return memo;
  }

  interface Fresh {
    readonly record?: SessionRecord;
    /** True when the national platform must be asked through a (silent) national login. */
    readonly stale: boolean;
  }

  function fresh(ctx: KoaContextWithOIDC): Promise<Fresh> {
    let memo = freshness.get(ctx);
    if (!memo) {
      memo = (async (): Promise<Fresh> => {
        const session = ctx.oidc.session;
        if (!session?.accountId) return { stale: false };
        const adopted = await adopt(ctx);
        if (adopted) return { record: adopted, stale: false };
        // Right after a national login, never ask for another one: that could loop.
        const justLoggedIn = ctx.oidc.route === 'resume' && ctx.oidc.result?.login !== undefined;
        const record = await records.session(session.uid);
        if (!record || record.accountId !== session.accountId) return { stale: !justLoggedIn };
        if (ctx.oidc.route === 'resume' && record.checkedAt >= nowSeconds() - withinFlowSeconds) return { record, stale: false };
        const confirmation = await confirmInProvider(record);
        if ('unverifiable' in confirmation) {
          logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: confirmation.unverifiable, at: 'authorization' });
          return { record, stale: !justLoggedIn };
        }
        await records.saveSession(session.uid, confirmation.record, remaining(confirmation.record));
        return { record: confirmation.record, stale: false };
      })();
      freshness.set(ctx, memo);
    }
    return memo;
  }

  function bindingOf(ctx: object, grantId: string): Promise<GrantBinding | undefined> {
    let perRequest = bindings.get(ctx);
    if (!perRequest) {
      perRequest = new Map();
      bindings.set(ctx, perRequest);
    }
    let found = perRequest.get(grantId);
    if (!found) {
      found = records.binding(grantId);
      perRequest.set(grantId, found);
    }
    return found;
  }

  /** A binding lasts as long as its grant. */
  function bindingTtl(grant: Grant | undefined): number {
    const exp = (grant as unknown as { exp?: number } | undefined)?.exp;
    return Math.max(typeof exp === 'number' ? exp - nowSeconds() : options.grantTtlSeconds, 1);
  }

  /** Binds the request's grant to the chosen company; false when it already acts for another one. */
  async function bind(ctx: KoaContextWithOIDC, sessionUid: string, accountId: string, acting: Representation): Promise<boolean> {
    const grant = ctx.oidc.grant;
    // A grant that is not saved yet waits for consent; the check binds it when the flow resumes.
    if (!grant?.jti) return true;
    const existing = await bindingOf(ctx, grant.jti);
    if (existing && existing.acting.creditCode !== acting.creditCode) return false;
    const binding: GrantBinding = { sessionUid, accountId, acting, boundAt: nowSeconds() };
    await records.saveBinding(grant.jti, binding, bindingTtl(grant));
    bindings.get(ctx)?.set(grant.jti, Promise.resolve(binding));
    return true;
  }

  async function saveChoice(sessionUid: string, record: SessionRecord, acting: Representation): Promise<SessionRecord> {
    const updated: SessionRecord = { ...record, choice: { creditCode: acting.creditCode, role: acting.role, chosenAt: nowSeconds() } };
    await records.saveSession(sessionUid, updated, remaining(updated));
    return updated;
  }

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
      if (!chosen) return Check.REQUEST_PROMPT;
      return (await bind(ctx, session.uid, record.accountId, chosen)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    },
  );

  async function confirmForRefresh(ctx: KoaContextWithOIDC, grantId: string, binding: GrantBinding | undefined): Promise<GrantBinding> {
    if (!binding) throw refused('the company this refresh token acts for is no longer known; sign in again');
    const record = await records.session(binding.sessionUid);
    if (!record || record.accountId !== binding.accountId) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: 'session ended', at: 'refresh' });
      throw refused('the company mandate can no longer be confirmed with the national platform (the login session has ended); sign in again');
    }
    const confirmation = await confirmInProvider(record);
    if ('unverifiable' in confirmation) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: confirmation.unverifiable, at: 'refresh' });
      throw refused('the company mandate can no longer be confirmed with the national platform; sign in again');
    }
    await records.saveSession(binding.sessionUid, confirmation.record, remaining(confirmation.record));
    const current = pick(currentRepresentations(confirmation.record, nowSeconds()), binding.acting.creditCode);
    if (!current) {
      // Every token of this authorization acted for the company: none of them may go on.
      const { provider } = ctx.oidc;
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
      ]);
      await (await provider.Grant.find(grantId))?.destroy();
      await records.removeBinding(grantId);
      logger.info('mandate_not_current', { code: 'mandate_not_current', at: 'refresh', client: ctx.oidc.client?.clientId });
      throw refused('the mandate to act for this company has expired or was revoked at the national platform');
    }
    const updated: GrantBinding = { ...binding, acting: current };
    await records.saveBinding(grantId, updated, bindingTtl(ctx.oidc.grant));
    bindings.get(ctx)?.set(grantId, Promise.resolve(updated));
    return updated;
  }

  /** The token a request uses or is issuing, if it acts under the `legal_person` scope. */
  function legalPersonToken(ctx: KoaContextWithOIDC): { grantId: string } | undefined {
    const { AccessToken, RefreshToken, AuthorizationCode } = ctx.oidc.entities;
    const token = AccessToken ?? RefreshToken ?? AuthorizationCode;
    if (!token?.grantId || !hasScope(token.scope, legalPersonScope)) return undefined;
    return { grantId: token.grantId };
  }

  return {
    prompt: new Prompt({ name: companyPromptName, requestable: true }, selectCompany),
    loginCheck,

    async rememberNationalLogin(interactionUid, facts) {
      // Most people act for no company: nothing to keep for them unless this app asks. A legal-person
      // app later in the same session finds no record and asks the national platform again, silently.
      if (facts.scope !== undefined && facts.identity.representations.length === 0 && !hasScope(facts.scope, legalPersonScope)) return false;
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
      }
      return binding ? asLegalPerson(binding.acting) : undefined;
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

    async optionsFor(sessionUid, accountId) {
      const record = await records.session(sessionUid);
      if (!record || record.accountId !== accountId) return undefined;
      return { eligible: currentRepresentations(record, nowSeconds()), ...(record.choice ? { choice: record.choice } : {}) };
    },

    async choose(sessionUid, accountId, creditCode) {
      const record = await records.session(sessionUid);
      const chosen = record && record.accountId === accountId ? pick(currentRepresentations(record, nowSeconds()), creditCode) : undefined;
      if (!record || !chosen) throw notEligibleError();
      await saveChoice(sessionUid, record, chosen);
      return asLegalPerson(chosen);
    },
  };
}
