/**
 * Dashboard sessions: an operator key is exchanged once for a short session in the shared store
 * (any node serves the next request), named by an HttpOnly, SameSite=Strict cookie, with a
 * per-session token that every form must carry back (CSRF). The key itself is never kept.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { OperatorActor } from '../members/actors.ts';
import type { Store } from '../platform/storage/types.ts';

export interface DashboardSession {
  readonly operatorId: string;
  readonly csrf: string;
  readonly expiresAt: number;
}

export interface DashboardSessions {
  begin(ctx: Context, operator: OperatorActor): Promise<DashboardSession>;
  /** The live session this request's cookie names, or undefined (none, unknown or expired). */
  current(ctx: Context): Promise<DashboardSession | undefined>;
  end(ctx: Context): Promise<void>;
  /** True when `token` is the session's own CSRF token. */
  checkCsrf(session: DashboardSession, token: unknown): boolean;
}

export interface DashboardSessionOptions {
  readonly store: Store;
  readonly cookieName: string;
  readonly path: string;
  readonly ttlSeconds: number;
  readonly secure: boolean;
}

const recordKey = (id: string) => `dashboard:session:${id}`;

export function createDashboardSessions({ store, cookieName, path, ttlSeconds, secure }: DashboardSessionOptions): DashboardSessions {
  const cookie = (ctx: Context, value: string, maxAge: number) => {
    ctx.append('set-cookie', `${cookieName}=${value}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
  };
  const idOf = (ctx: Context) => {
    const match = new RegExp(`(?:^|;\\s*)${cookieName.replaceAll('.', '\\.')}=([A-Za-z0-9_-]{43})(?:;|$)`).exec(ctx.get('cookie'));
    return match?.[1];
  };
  return {
    async begin(ctx, operator) {
      const id = randomBytes(32).toString('base64url');
      const session: DashboardSession = { operatorId: operator.id, csrf: randomBytes(32).toString('base64url'), expiresAt: Date.now() + ttlSeconds * 1000 };
      await store.set(recordKey(id), session, ttlSeconds * 1000);
      cookie(ctx, id, ttlSeconds);
      return session;
    },
    async current(ctx) {
      const id = idOf(ctx);
      if (!id) return undefined;
      const session = await store.get<DashboardSession>(recordKey(id));
      return session && session.expiresAt > Date.now() ? session : undefined;
    },
    async end(ctx) {
      const id = idOf(ctx);
      if (id) await store.delete(recordKey(id));
      cookie(ctx, '', 0);
    },
    checkCsrf(session, token) {
      if (typeof token !== 'string') return false;
      const given = Buffer.from(token);
      const expected = Buffer.from(session.csrf);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
