/**
 * Whether a mandate is still current is asked of the national platform (the broker keeps no
 * register): the connector's `currentMandates` with the login's national access token. An answer
 * that cannot be had or trusted makes the record unverifiable; an unreachable platform throws.
 */
import { ErrorCode, isTongbanError } from '../platform/errors.ts';
import { NationalUnreachable } from './errors.ts';
import type { Confirmation, LegalPersonKit } from './kit.ts';
import type { SessionRecord } from './records.ts';

export interface MandateCheck {
  /** Asks the national platform what the person may represent now. Unreachable → throws. */
  confirm(record: SessionRecord): Promise<Confirmation>;
  /** `confirm` for oidc-provider's endpoints: an unreachable national platform is `temporarily_unavailable`. */
  confirmInProvider(record: SessionRecord): Promise<Confirmation>;
}

export function createMandateCheck({ options, nowSeconds }: LegalPersonKit): MandateCheck {
  const { national, logger } = options;

  async function confirm(record: SessionRecord): Promise<Confirmation> {
    const now = nowSeconds();
    if (record.nationalAccessTokenExpiresAt !== undefined && record.nationalAccessTokenExpiresAt <= now + 5) {
      return { unverifiable: 'national access token expired' };
    }
    try {
      const representations = await national.currentMandates(record.nationalAccessToken, record.nationalSubject);
      return { record: { ...record, representations, checkedAt: now } };
    } catch (error) {
      if (isTongbanError(error) && (error.code === ErrorCode.upstreamUnavailable || error.code === ErrorCode.upstreamTimeout)) throw error;
      // The connector validates the list it got: an invalid one is not a refusal of the userinfo.
      if (isTongbanError(error) && error.code === ErrorCode.identityInvalid) return { unverifiable: `national entities invalid (${error.code})` };
      return { unverifiable: `national userinfo refused (${isTongbanError(error) ? error.code : 'error'})` };
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

  return { confirm, confirmInProvider };
}
