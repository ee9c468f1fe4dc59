/**
 * The operator dashboard at `/admin`: sign-in with an operator key (exchanged for a short session),
 * the page, its counts as JSON, its static files, and the suspend / resume / rotate-secret forms.
 * Mounted before the admin JSON API, which answers every other `/admin/...` path. The members
 * registry enforces who may do what (a province operator stays in its province); this adds the
 * session, the CSRF token and a page for every refusal, with nothing changed.
 */
import type { Context, Middleware, Next } from 'koa';
import { isTongbanError } from '../platform/errors.ts';
import { readBody } from '../platform/http/body.ts';
import type { Logger } from '../platform/log.ts';
import { isStoreUnavailable } from '../platform/storage/guard.ts';
import type { Store } from '../platform/storage/types.ts';
import type { OperatorActor } from '../members/actors.ts';
import type { MemberRegistry } from '../members/member-registry.ts';
import type { LogoutQueueDepth } from '../platform/metrics/index.ts';
import { loadDashboardAssets, type Asset } from './assets.ts';
import type { LoginCounts } from './login-counts.ts';
import { openApiDocument } from './openapi.ts';
import { dashboardPage, messagePage, signInPage, type DashboardCity, type DashboardTextKey } from './page.ts';
import { createDashboardSessions } from './sessions.ts';

export interface DashboardOptions {
  readonly registry: MemberRegistry;
  readonly store: Store;
  readonly logins: LoginCounts;
  readonly logger: Logger;
  readonly issuer: string;
  readonly cookiePrefix: string;
  /** Back-channel logout deliveries waiting, by destination province (read at each page). */
  readonly logoutQueue: LogoutQueueDepth;
  /** Verifies the hash-chained audit trail when one is wired in (broker/audit). */
  readonly verifyAudit?: () => Promise<boolean>;
  readonly prefix?: string;
  readonly sessionTtlSeconds?: number;
}

const policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const appActions = ['suspend', 'resume', 'rotate-secret'] as const;

async function readForm(ctx: Context): Promise<URLSearchParams> {
  const body = await readBody(ctx, 16 * 1024);
  return new URLSearchParams(body ? body.toString('utf8') : '');
}

export function createDashboard(options: DashboardOptions): Middleware {
  const base = options.prefix ?? '/admin';
  const files = `${base}/dashboard`;
  const assets = loadDashboardAssets(files);
  const served = new Map<string, Asset>([assets.chart, assets.script, assets.style].map((asset) => [asset.path, asset]));
  const sessions = createDashboardSessions({
    store: options.store, cookieName: `${options.cookiePrefix}.admin`, path: base,
    ttlSeconds: options.sessionTtlSeconds ?? 15 * 60, secure: new URL(options.issuer).protocol === 'https:',
  });
  const openApi = JSON.stringify(openApiDocument(options.issuer, base));
  const { registry, logger } = options;

  const page = (ctx: Context, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  };
  const refuse = (ctx: Context, status: number, key: DashboardTextKey, detail?: string) => page(ctx, status, messagePage(assets, base, 'error', key, detail));

  /** The operator of a live session, still active; undefined (and the session ended) otherwise. */
  const operatorOf = async (ctx: Context) => {
    const session = await sessions.current(ctx);
    if (!session) return undefined;
    const record = await registry.records.operator(session.operatorId);
    if (!record || record.status !== 'active') {
      await sessions.end(ctx);
      return undefined;
    }
    const operator: OperatorActor = { kind: 'operator', id: record.id, name: record.name, role: record.role, ...(record.province ? { province: record.province } : {}) };
    return { session, operator };
  };

  const render = async (ctx: Context, operator: OperatorActor, csrf: string) => {
    const summaries = await registry.listCities(operator);
    const cities: DashboardCity[] = await Promise.all(summaries.map(async (city) => ({
      code: city.code, name: city.name,
      apps: city.apps ? (await registry.showCity(operator, city.code)).apps.map((app) => ({ client_id: app.client_id, name: app.name, status: app.status, source: app.source })) : [],
    })));
    const queue = Object.fromEntries(Object.entries(await options.logoutQueue()).filter(([province]) => operator.role !== 'province' || province === operator.province));
    const audit = await registry.audit(operator, { limit: 20 });
    const verified = options.verifyAudit ? await options.verifyAudit().catch(() => false) : undefined;
    page(ctx, 200, dashboardPage({ operator, csrf, base, assets, cities, queue, audit, auditStatus: verified === undefined ? 'not_checked' : verified ? 'verified' : 'broken' }));
  };

  const handle = async (ctx: Context): Promise<boolean> => {
    const { path, method } = ctx;
    if (path === `${base}/openapi.json` && method === 'GET') {
      ctx.type = 'application/json';
      ctx.body = openApi;
      return true;
    }
    const asset = served.get(path);
    if (asset && method === 'GET') {
      ctx.set('cache-control', 'public, max-age=31536000, immutable');
      ctx.type = asset.type;
      ctx.body = asset.body;
      return true;
    }
    if ((path === base || path === `${base}/`) && method === 'GET') {
      const current = await operatorOf(ctx);
      if (!current) {
        const hadCookie = ctx.get('cookie').includes(`${options.cookiePrefix}.admin=`);
        page(ctx, 200, signInPage(assets, base, hadCookie ? 'expired' : undefined));
      } else await render(ctx, current.operator, current.session.csrf);
      return true;
    }
    if (path === `${base}/session` && method === 'POST') {
      const form = await readForm(ctx);
      const operator = await registry.authenticate(form.get('operator_key') ?? undefined);
      if (!operator) {
        // 401: counted by the rate limits' operator-key failures (platform/rate-limit/middleware.ts).
        page(ctx, 401, signInPage(assets, base, 'wrongKey'));
        logger.info('dashboard_sign_in_refused', { code: 'invalid_token' });
        return true;
      }
      await sessions.begin(ctx, operator);
      logger.info('dashboard_signed_in', { operator: operator.id });
      ctx.status = 303;
      ctx.redirect(base);
      return true;
    }
    if (path === `${base}/session/end` && method === 'POST') {
      const form = await readForm(ctx);
      const session = await sessions.current(ctx);
      if (session && !sessions.checkCsrf(session, form.get('csrf'))) {
        refuse(ctx, 403, 'forged');
        return true;
      }
      await sessions.end(ctx);
      ctx.status = 303;
      ctx.redirect(base);
      return true;
    }
    if (path === `${files}/counts.json` && method === 'GET') {
      const current = await operatorOf(ctx);
      if (!current) {
        ctx.status = 401;
        ctx.body = { error: 'login_required', error_description: 'the dashboard session is missing or expired; sign in again at /admin' };
        return true;
      }
      const window = ctx.query.window === 'day' ? 'day' : 'hour';
      ctx.set('cache-control', 'no-store');
      ctx.body = await options.logins.series(window, current.operator.role === 'province' ? current.operator.province : undefined);
      return true;
    }
    const action = new RegExp(`^${files}/apps/([^/]+)/([a-z-]+)$`).exec(path);
    if (action && method === 'POST') {
      const form = await readForm(ctx);
      const current = await operatorOf(ctx);
      if (!current) {
        refuse(ctx, 401, 'expired');
        return true;
      }
      if (!sessions.checkCsrf(current.session, form.get('csrf'))) {
        refuse(ctx, 403, 'forged');
        return true;
      }
      const [, clientId = '', name] = action;
      const id = decodeURIComponent(clientId);
      if (!appActions.includes(name as typeof appActions[number])) return false;
      const { operator } = current;
      if (name === 'rotate-secret') {
        const rotated = await registry.rotateSecret(operator, id);
        page(ctx, 200, messagePage(assets, base, 'ok', 'done', `${name} ${id}`, rotated.client_secret));
      } else {
        await (name === 'suspend' ? registry.suspendApp(operator, id) : registry.resumeApp(operator, id));
        page(ctx, 200, messagePage(assets, base, 'ok', 'done', `${name} ${id}`));
      }
      logger.info('dashboard_action', { action: name, app: id, operator: operator.id });
      return true;
    }
    return false;
  };

  return async (ctx: Context, next: Next) => {
    if (ctx.path !== base && !ctx.path.startsWith(`${base}/`)) return next();
    ctx.set('content-security-policy', policy);
    ctx.set('cache-control', 'no-store');
    try {
      if (await handle(ctx)) return undefined;
    } catch (error) {
      if (isStoreUnavailable(error)) refuse(ctx, 503, 'refused', 'the store is unavailable; try again later');
      else if (isTongbanError(error)) refuse(ctx, error.status, 'refused', error.message);
      else {
        logger.error('dashboard_crashed', { path: ctx.path, reason: (error as Error)?.name });
        refuse(ctx, 500, 'refused');
      }
      return undefined;
    }
    return next();
  };
}
