/**
 * What legal-person logins offer the rest of the broker (the provider configuration, the login
 * flow, findAccount, the legacy bridges): one interface, and the facts handed over to it.
 */
import type { Client, Grant, KoaContextWithOIDC, interactionPolicy } from 'oidc-provider';
import type { CanonicalIdentity, LegalPerson, Representation } from '../identity/model.ts';
import type { NationalPlatform } from '../national/upstream.ts';
import type { Derive } from '../identity/subjects.ts';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { Sealer } from '../platform/crypto/sealing.ts';
import type { CompanyChoice } from './records.ts';


export interface LegalPersonsOptions {
  readonly store: Store;
  /** Seals the records (national access token, organisations, credit codes) at rest. */
  readonly sealer: Sealer;
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
   * with the national platform first, and an ended one refuses the refresh with `invalid_grant`;
   * at userinfo too, and an ended or unconfirmable one answers `invalid_token`.
   */
  actingFor(ctx: KoaContextWithOIDC): Promise<LegalPerson | undefined>;
  /**
   * For introspection (`allowedPolicy`): false when the token in question acts for a company whose
   * mandate has ended (every token of its grant is then ended) or can no longer be confirmed.
   * An unreachable national platform throws `temporarily_unavailable`.
   */
  activeInUse(ctx: KoaContextWithOIDC): Promise<boolean>;
  /** For the legacy bridges: the company a grant was bound to at its authorization, if any. */
  actingForGrant(grantId: string): Promise<{ readonly creditCode: string } | undefined>;
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
  /**
   * The session's national access token, for the national licence library (broker/licences);
   * undefined when the session kept none for this account or it has expired.
   */
  nationalAccessOf(sessionUid: string, accountId: string): Promise<{ readonly accessToken: string; readonly nationalSubject: string } | undefined>;
  /** The choice page's list, as last confirmed (undefined when the session has no national answer). */
  optionsFor(sessionUid: string, accountId: string): Promise<CompanyOptions | undefined>;
  /**
   * Records the person's choice; throws `legal_person_not_eligible` for anything not in the list,
   * and `mandate_scope_missing` (naming them) when an agent's mandate lacks the app's required scopes.
   */
  choose(sessionUid: string, accountId: string, creditCode: string, requiredMandateScopes?: readonly string[]): Promise<LegalPerson>;
}
