/**
 * Single logout. One broker session ends the same way whoever starts it:
 *
 * - **RP-initiated** (`/session/end`, oidc-provider's own endpoint with its checks of
 *   `id_token_hint`, `client_id` and `post_logout_redirect_uri`): oidc-provider ends the session and
 *   revokes its grants; every app of the session is sent a back-channel logout token through the
 *   delivery queue (oidc-provider's `Client#backchannelLogout`, fire-and-forget, is replaced by
 *   `enqueue`); then the browser goes through the national end-session endpoint (as the broker's
 *   `client_id`, never with a national ID token in the URL) and comes back at
 *   `/national/logged-out`, from where it continues to the portal's `post_logout_redirect_uri` (or
 *   the broker's signed-out page).
 * - **National back-channel** (`POST /national/backchannel-logout`): the logout token is verified
 *   strictly, and every broker session of that national session (`sid`) or person (`sub`) is ended
 *   here: grants revoked, apps sent logout tokens through the same queue, session destroyed.
 *
 * Either way the legacy bridges' tickets and tokens of the session are revoked, and when it was the
 * person's last session, the identity record goes too.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import type { JWTVerifyGetKey } from 'jose';
import type { AccountStore } from '../accounts/records.ts';
import type { Logger } from '../platform/log.ts';
import type { NationalPlatform } from '../national/upstream.ts';
import { readForm } from '../platform/http/body.ts';
import { describeError } from '../platform/errors.ts';
import { errorPage } from '../platform/pages/layout.ts';
import type { Store } from '../platform/storage/types.ts';
import { accountIdOf, type Derive } from '../identity/subjects.ts';
import { createNationalLogoutTokenVerifier, LogoutTokenRejected, NationalKeysUnavailable } from './national-token.ts';
import { createDeliveryQueue, type DeliveryQueue, type DeliveryQueueOptions } from './queue.ts';
import { createSessionRegistry, type NationalLogin, type SessionLoginRecord, type SessionRegistry } from './sessions.ts';
import type { LogoutSettings } from './settings.ts';
import { createDeliver } from './token.ts';
import { readSignedOut, writeSignedOut } from './signed-out.ts';
import { createGuardedFetch } from '../platform/http/outbound.ts';
import { routes, type Mode } from '../../config/defaults.ts';

export type { NationalLogin } from './sessions.ts';

/** A broker session that has ended. */
export interface EndedSession {
  readonly sessionUid: string;
  readonly accountId: string;
  readonly trigger: 'rp_initiated' | 'national';
}

/** Runs for every ended session, after the broker's own clean-up. */
export type SessionEndedHook = (ended: EndedSession) => Promise<unknown>;

export interface SingleLogoutOptions {
  readonly provider: Provider;
  readonly store: Store;
  readonly national: NationalPlatform;
  readonly accounts: AccountStore;
  readonly derive: Derive;
  readonly logger: Logger;
  readonly issuer: string;
  /** Prefix of the broker's cookie names (the signed-out marker, signed-out.ts); default `tongban`. */
  readonly cookiePrefix?: string;
  /** Which outbound URL rules apply to back-channel deliveries (broker/platform/http/outbound.ts); default production. */
  readonly mode?: Mode;
  readonly nationalIssuer: string;
  /** The broker's client id at the national platform (the audience of national logout tokens). */
  readonly nationalClientId: string;
  readonly nationalTimeoutMs: number;
  readonly sessionTtlSeconds: number;
  readonly interactionTtlSeconds: number;
  readonly settings: LogoutSettings;
  /** Told of each back-channel delivery that ends: delivered or given up. */
  readonly onDeliveryOutcome?: DeliveryQueueOptions['onOutcome'];
  /** E.g. the legacy bridges revoke the tickets and tokens issued from the session. */
  readonly onSessionEnded?: SessionEndedHook;
  /** Keys for national logout tokens (tests); default: the national JWKS. */
  readonly nationalKeys?: JWTVerifyGetKey;
}

export interface SingleLogout {
  readonly queue: DeliveryQueue;
  readonly registry: SessionRegistry;
  /** Goes into `provider.use`: records national logins, and sends RP-initiated logouts on to the national platform. */
  readonly middleware: Middleware;
  /** `/national/backchannel-logout` and `/national/logged-out`. */
  readonly router: Router;
  /** Ends broker sessions by uid as a national logout does; returns how many were alive. */
  endSessions(sessionUids: readonly string[], trigger: EndedSession['trigger']): Promise<number>;
  /** Starts the delivery worker. */
  start(): void;
  stop(): Promise<void>;
}

export const nationalLoggedOutPath = routes.nationalLoggedOut;
export const nationalBackchannelLogoutPath = routes.nationalBackchannelLogout;

interface NationalReturn {
  /** Where oidc-provider sent the browser after the broker logout. */
  readonly next: string;
}
const returnKey = (state: string) => `logout:national-return:${state}`;
/** Claimed by whichever logout of a session comes first, so the apps are told once. */
const endedKey = (sessionUid: string) => `logout:session-ended:${sessionUid}`;

export function createSingleLogout(options: SingleLogoutOptions): SingleLogout {
  const { provider, store, national, accounts, derive, issuer } = options;
  const cookiePrefix = options.cookiePrefix ?? 'tongban';
  const logger = options.logger.child({ component: 'single_logout' });
  const onSessionEnded = options.onSessionEnded ?? (async () => undefined);
  const registry = createSessionRegistry(store);
  const queue = createDeliveryQueue({
    store,
    logger: options.logger,
    settings: options.settings,
    ...(options.onDeliveryOutcome ? { onOutcome: options.onDeliveryOutcome } : {}),
    deliver: createDeliver({ provider, timeoutMs: options.settings.deliveryTimeoutMs, fetch: createGuardedFetch({ mode: options.mode ?? 'production', timeoutMs: options.settings.deliveryTimeoutMs }) }),
  });
  const verifyNationalToken = createNationalLogoutTokenVerifier({
    issuer: options.nationalIssuer,
    clientId: options.nationalClientId,
    store,
    timeoutMs: options.nationalTimeoutMs,
    ...(options.nationalKeys ? { keys: options.nationalKeys } : {}),
  });

  // oidc-provider's end_session awaits this for every app of the session that registered a
  // backchannel_logout_uri: queueing here makes its deliveries durable and retried.
  const clientPrototype = (provider.Client as unknown as { prototype: { backchannelLogout(accountId: string, sid?: string): Promise<void> } }).prototype;
  clientPrototype.backchannelLogout = async function backchannelLogout(this: Client, accountId: string, sid?: string) {
    await queue.enqueue({ clientId: this.clientId, accountId, ...(sid ? { sid } : {}) });
  };

  /** The broker's own clean-up after a session ended; returns the national login it came from. */
  async function cleanUp(ended: EndedSession): Promise<SessionLoginRecord | undefined> {
    const { record, lastOfAccount } = await registry.forget(ended.sessionUid, ended.accountId);
    try {
      await onSessionEnded(ended);
    } catch (error) {
      logger.warn('session_end_hook_failed', { reason: (error as Error)?.name });
    }
    if (lastOfAccount) await accounts.remove(ended.accountId);
    logger.info('broker_session_ended', { trigger: ended.trigger, last_of_account: lastOfAccount });
    return record;
  }

  async function revokeGrant(grantId: string): Promise<void> {
    await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode].map((model) => model.revokeByGrantId(grantId)));
    const grant = await provider.Grant.find(grantId);
    await grant?.destroy();
  }

  async function endSession(sessionUid: string, trigger: EndedSession['trigger']): Promise<boolean> {
    const session = await provider.Session.findByUid(sessionUid);
    const accountId = session?.accountId;
    if (!session || !accountId) {
      await registry.forget(sessionUid, undefined);
      return false;
    }
    // Two logouts of one session at once (national and RP, or two nodes) fan out once.
    if (!(await store.claim(endedKey(sessionUid), options.sessionTtlSeconds * 1000))) return false;
    for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
      const client = await provider.Client.find(clientId).catch(() => undefined);
      if (client?.backchannelLogoutUri) {
        await queue.enqueue({ clientId, accountId, ...(authorization.sid ? { sid: authorization.sid } : {}) });
      }
      if (authorization.grantId && !authorization.persistsLogout) await revokeGrant(authorization.grantId);
    }
    await session.destroy();
    await cleanUp({ sessionUid, accountId, trigger });
    return true;
  }

  async function endSessions(sessionUids: readonly string[], trigger: EndedSession['trigger']): Promise<number> {
    let ended = 0;
    for (const uid of new Set(sessionUids)) if (await endSession(uid, trigger)) ended += 1;
    return ended;
  }

  const isResumePath = (location: string) => {
    try {
      const url = new URL(location, issuer);
      return url.origin === new URL(issuer).origin && url.pathname.startsWith(`${routes.oidc.authorization}/`);
    } catch {
      return false;
    }
  };

  /** After oidc-provider's logout: the national session ends too, then the browser goes on. */
  async function afterRpLogout(ctx: Context, oidc: KoaContextWithOIDC['oidc']): Promise<void> {
    const session = oidc.session;
    // Only a full logout (logout=yes) destroys the session; "this app only" leaves it, and the national one.
    if (!session || !(session as unknown as { destroyed?: boolean }).destroyed) return;
    const accountId = session.accountId;
    if (accountId) {
      await store.claim(endedKey(session.uid), options.sessionTtlSeconds * 1000);
      await cleanUp({ sessionUid: session.uid, accountId, trigger: 'rp_initiated' });
    }
    // Without a broker session (expired, or cookies lost) the national session may still be alive:
    // the person asked to sign out, so it is ended all the same.
    const next = ctx.response.get('location');
    // A session replaced by another person's login resumes that login here: the national session
    // is the new person's and stays.
    if (ctx.status !== 303 || !next || isResumePath(next)) return;
    const state = randomBytes(24).toString('base64url');
    // `client_id` names the broker; a national ID token as `id_token_hint` would put the personal
    // claims it may carry into the browser's history and the access logs on the way.
    const url = await national.endSessionUrl({
      postLogoutRedirectUri: new URL(nationalLoggedOutPath, issuer).href,
      state,
    });
    // This browser may be a shared terminal: until a fresh national login, logins here ask again.
    const signedOutAt = Math.floor(Date.now() / 1000);
    if (!url) {
      logger.warn('national_logout_unavailable', { code: 'upstream_unavailable' });
      writeSignedOut(ctx, cookiePrefix, { at: signedOutAt, national: 'unavailable' });
      return;
    }
    writeSignedOut(ctx, cookiePrefix, { at: signedOutAt, national: 'pending' });
    await store.set(returnKey(state), { next } satisfies NationalReturn, options.interactionTtlSeconds * 1000);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  async function middleware(ctx: Context, next: Next): Promise<void> {
    await next();
    // ctx.oidc exists only where one of oidc-provider's routes ran.
    const oidc = (ctx as unknown as { oidc?: KoaContextWithOIDC['oidc'] }).oidc;
    if (!oidc) return;
    if (oidc.route === 'resume') {
      const login = (oidc.result as { national?: NationalLogin } | undefined)?.national;
      const session = oidc.session;
      if (login && session?.accountId && !(session as unknown as { destroyed?: boolean }).destroyed) {
        // oidc-provider marks a session it created in this request `new`: its uid has no record yet.
        await registry.recordLogin(session.uid, session.accountId, login, options.sessionTtlSeconds, { fresh: (session as unknown as { new?: boolean }).new === true });
      }
    } else if (oidc.route === 'end_session_confirm') {
      await afterRpLogout(ctx, oidc);
    }
  }

  const router = new Router();

  const invalidToken = (ctx: Context) => {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'the logout token is missing or invalid' };
  };

  router.post(nationalBackchannelLogoutPath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    let token: string | null;
    try {
      token = (await readForm(ctx)).get('logout_token');
    } catch {
      logger.warn('national_logout_token_rejected', { reason: 'form' });
      invalidToken(ctx);
      return;
    }
    let logout;
    try {
      logout = await verifyNationalToken(token ?? '');
    } catch (error) {
      if (error instanceof LogoutTokenRejected) {
        logger.warn('national_logout_token_rejected', { reason: error.reason });
        invalidToken(ctx);
        return;
      }
      if (error instanceof NationalKeysUnavailable) {
        logger.warn('national_logout_keys_unavailable', { code: 'upstream_unavailable' });
        ctx.status = 503;
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the national keys cannot be fetched now, try again later' };
        return;
      }
      throw error;
    }
    const accountId = logout.sub ? accountIdOf(derive, logout.sub) : undefined;
    let uids: string[];
    if (logout.sid) {
      uids = await registry.sessionsOfNationalSid(logout.sid);
      // With both, only sessions of that national session that are also that person's.
      if (accountId) {
        const records = await Promise.all(uids.map((uid) => registry.loginOf(uid)));
        uids = uids.filter((_uid, i) => records[i] === undefined || records[i]!.accountId === accountId);
      }
    } else {
      uids = await registry.sessionsOfAccount(accountId!);
    }
    const ended = await endSessions(uids, 'national');
    logger.info('national_backchannel_logout', { by: logout.sid ? 'sid' : 'sub', sessions: ended });
    ctx.status = 200;
    ctx.body = '';
  });

  router.get(nationalLoggedOutPath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const state = typeof ctx.query.state === 'string' && ctx.query.state.length <= 200 ? ctx.query.state : undefined;
    const back = state && (await store.claim(`logout:national-return-used:${state}`, options.interactionTtlSeconds * 1000))
      ? await store.get<NationalReturn>(returnKey(state))
      : undefined;
    if (state && back) await store.delete(returnKey(state));
    // The national platform sent the browser back from its sign-out: its session has ended.
    const marker = back ? readSignedOut(ctx, cookiePrefix) : undefined;
    if (marker) writeSignedOut(ctx, cookiePrefix, { ...marker, national: 'ended' });
    if (!back) {
      const unknown = describeError('logout_return_unknown');
      ctx.status = unknown.status;
      ctx.type = 'html';
      ctx.body = errorPage(unknown);
      return;
    }
    ctx.status = 303;
    ctx.redirect(back.next);
  });

  return {
    queue,
    registry,
    middleware,
    router,
    endSessions,
    start: () => queue.start(),
    stop: () => queue.stop(),
  };
}
