/**
 * The stable error codes of legal-person logins, and the errors people and clients see (their
 * wording is in the error catalogue). Messages never carry a credit code or a name: what the
 * person may represent is personal to them.
 */
import { errors } from 'oidc-provider';
import { tongbanError, type ErrorKey, type TongbanError } from '../platform/errors.ts';

export const LegalPersonError = {
  /** The national platform lists no organisation the person may act for now. */
  none: 'legal_person_none',
  /** The chosen organisation is not among those the person may act for now (forged or stale form). */
  notEligible: 'legal_person_not_eligible',
  /** The mandate a token or ticket acts under has expired or was revoked at the national platform. */
  mandateEnded: 'mandate_not_current',
  /** The broker can no longer ask the national platform (its token expired, the session ended, a bad answer). */
  unverifiable: 'mandate_unverifiable',
  /** A check asked about the session's company, but none was chosen. */
  notChosen: 'legal_person_not_chosen',
  /** The agent's mandate lacks mandate scopes the app requires (`required_mandate_scopes`). */
  mandateScopes: 'mandate_scope_missing',
} as const satisfies Record<string, ErrorKey>;

export function noCompanyError(): TongbanError {
  return tongbanError(LegalPersonError.none);
}

export function notEligibleError(): TongbanError {
  return tongbanError(LegalPersonError.notEligible);
}

export function mandateEndedError(detail?: string): TongbanError {
  return tongbanError(LegalPersonError.mandateEnded, detail ? { detail } : {});
}

export function unverifiableError(detail?: string): TongbanError {
  return tongbanError(LegalPersonError.unverifiable, detail ? { detail } : {});
}

export function notChosenError(): TongbanError {
  return tongbanError(LegalPersonError.notChosen);
}

/** The page error naming the mandate scopes the app requires and the chosen company's mandate lacks (scope names, never a company). */
export function mandateScopesMissingError(missing: readonly string[]): TongbanError {
  return tongbanError(LegalPersonError.mandateScopes, { params: { missing: missing.join(', ') } });
}

/** The OAuth error of the same refusal, for a request that cannot show a page (`prompt=none`). */
export function mandateScopesMissingForClient(missing: readonly string[]): errors.OIDCProviderError {
  return new errors.AccessDenied(`the mandate to act for the company lacks the scopes this app requires: ${missing.join(', ')}`);
}

/** A standard `temporarily_unavailable` for oidc-provider's endpoints when the national platform cannot be reached. */
export class NationalUnreachable extends errors.OIDCProviderError {
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    this.error_description = 'the national platform cannot be reached to confirm the company mandate; try again later';
    this.expose = true;
  }
}
