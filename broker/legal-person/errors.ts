/**
 * The stable error codes of legal-person logins, and the errors people and clients see. Messages
 * never carry a credit code or a name: what the person may represent is personal to them.
 */
import { errors } from 'oidc-provider';
import { TongbanError } from '../platform/errors.ts';

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
} as const;

export function noCompanyError(): TongbanError {
  return new TongbanError(LegalPersonError.none, {
    status: 403,
    message: 'The national government service platform lists no company or organisation you may act for now, as legal representative or as an agent with a current mandate. If a mandate has expired, the company can renew it at the national platform.',
    messageZh: '国家政务服务平台显示，您目前不能代表任何企业或组织办事（既不是法定代表人，也没有有效的经办授权）。如授权已过期，请企业在国家政务服务平台重新授权后再试。',
  });
}

export function notEligibleError(): TongbanError {
  return new TongbanError(LegalPersonError.notEligible, {
    status: 403,
    message: 'You may not act for the company that was submitted. Choose one of the companies listed on the previous page.',
    messageZh: '您不能代表所提交的企业办事。请在上一页列出的企业中选择。',
  });
}

export function mandateEndedError(detail?: string): TongbanError {
  return new TongbanError(LegalPersonError.mandateEnded, {
    status: 403,
    message: 'Your mandate to act for this company has expired or was revoked at the national government service platform.',
    messageZh: '您代表该企业办事的授权已过期或已被撤销（以国家政务服务平台为准）。',
    ...(detail ? { detail } : {}),
  });
}

export function unverifiableError(detail?: string): TongbanError {
  return new TongbanError(LegalPersonError.unverifiable, {
    status: 401,
    message: 'Your mandate to act for this company can no longer be confirmed with the national government service platform. Please sign in again.',
    messageZh: '暂时无法向国家政务服务平台确认您代表该企业的授权，请重新登录。',
    ...(detail ? { detail } : {}),
  });
}

export function notChosenError(): TongbanError {
  return new TongbanError(LegalPersonError.notChosen, {
    status: 403,
    message: 'No company was chosen in this login.',
    messageZh: '本次登录没有选择要代表的企业。',
  });
}

/** A standard `temporarily_unavailable` for oidc-provider's endpoints when the national platform cannot be reached. */
export class NationalUnreachable extends errors.OIDCProviderError {
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    this.error_description = 'the national platform cannot be reached to confirm the company mandate; try again later';
    this.expose = true;
  }
}
