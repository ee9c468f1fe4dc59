/**
 * The national side of a broker session during an authorization: the national login of the
 * interaction just resumed is adopted onto the session, and what the session knows is confirmed
 * with the national platform once per request (memoised: the checks, loadExistingGrant, findAccount
 * and pairwiseIdentifier of one request share one store read and one national answer).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { withinFlowSeconds, type LegalPersonKit } from './kit.ts';
import type { MandateCheck } from './mandates.ts';
import type { SessionRecord } from './records.ts';

export interface Fresh {
  readonly record?: SessionRecord;
  /** True when the national platform must be asked through a (silent) national login. */
  readonly stale: boolean;
}

export interface SessionEntitlements {
  /** Moves the national login of the interaction just resumed onto the session (the choice is kept). */
  adopt(ctx: KoaContextWithOIDC): Promise<SessionRecord | undefined>;
  /** The session's record, confirmed with the national platform when it must be current. */
  fresh(ctx: KoaContextWithOIDC): Promise<Fresh>;
}

export function createSessionEntitlements(kit: LegalPersonKit, { confirmInProvider }: MandateCheck): SessionEntitlements {
  const { options, records, nowSeconds, remaining } = kit;
  const { logger } = options;
  const adoptions = new WeakMap<object, Promise<SessionRecord | undefined>>();
  const freshness = new WeakMap<object, Promise<Fresh>>();

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

  return { adopt, fresh };
}
