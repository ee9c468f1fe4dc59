/**
 * A company's access tokens in use (userinfo, introspection): the mandate they act under is
 * confirmed with the national platform at each use, so a revoked mandate makes them inactive at
 * once, not at the next refresh. Nothing is cached across requests: concurrent uses of one
 * session on one node share a single national answer, and that is all (docs/legal-persons.md).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { currentRepresentations, type Representation } from '../identity/model.ts';
import type { GrantBindings } from './bindings.ts';
import { pick, type Confirmation, type LegalPersonKit } from './kit.ts';
import type { MandateCheck } from './mandates.ts';
import type { GrantBinding, SessionRecord } from './records.ts';

/** Where a token is in use. */
export type TokenUseSite = 'userinfo' | 'introspection';

/** A token in use: still acting (for the company, when bound to one), or no longer active and why. */
export type TokenUse = { readonly acting?: Representation } | { readonly inactive: 'mandate_not_current' | 'mandate_unverifiable' };

export interface TokenUseCheck {
  /**
   * Confirms the company of a token in use. An ended mandate ends every token of the grant (as a
   * refresh does); one that cannot be confirmed leaves them be but answers inactive. An unreachable
   * national platform throws `temporarily_unavailable`.
   */
  confirmInUse(ctx: KoaContextWithOIDC, grantId: string, binding: GrantBinding | undefined, at: TokenUseSite): Promise<TokenUse>;
}

export function createTokenUseCheck(kit: LegalPersonKit, { confirmInProvider }: MandateCheck, { endGrant }: GrantBindings): TokenUseCheck {
  const { options, records, nowSeconds, remaining } = kit;
  const { logger } = options;
  const inFlight = new Map<string, Promise<Confirmation>>();

  /** One national answer for the concurrent uses of a session on this node; none kept after it. */
  function confirmShared(sessionUid: string, record: SessionRecord): Promise<Confirmation> {
    let pending = inFlight.get(sessionUid);
    if (!pending) {
      pending = (async () => {
        try {
          const confirmation = await confirmInProvider(record);
          if ('record' in confirmation) await records.saveSession(sessionUid, confirmation.record, remaining(confirmation.record));
          return confirmation;
        } finally {
          inFlight.delete(sessionUid);
        }
      })();
      inFlight.set(sessionUid, pending);
    }
    return pending;
  }

  async function confirmInUse(ctx: KoaContextWithOIDC, grantId: string, binding: GrantBinding | undefined, at: TokenUseSite): Promise<TokenUse> {
    // A token of a login that acted for no company has nothing to confirm.
    if (!binding) return {};
    const record = await records.session(binding.sessionUid);
    if (!record || record.accountId !== binding.accountId) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: 'session ended', at });
      return { inactive: 'mandate_unverifiable' };
    }
    const confirmation = await confirmShared(binding.sessionUid, record);
    if ('unverifiable' in confirmation) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: confirmation.unverifiable, at });
      return { inactive: 'mandate_unverifiable' };
    }
    const current = pick(currentRepresentations(confirmation.record, nowSeconds()), binding.acting.creditCode);
    if (!current) {
      await endGrant(ctx, grantId);
      logger.info('mandate_not_current', { code: 'mandate_not_current', at, client: ctx.oidc.client?.clientId });
      return { inactive: 'mandate_not_current' };
    }
    return { acting: current };
  }

  return { confirmInUse };
}
