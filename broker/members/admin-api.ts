/**
 * The admin API: the operator CLI's operations over HTTP, as JSON, under `/admin`.
 *
 * Every request carries an operator's API key (`Authorization: Bearer tbo_…`); keys are stored as
 * keyed hashes only (members/secrets.ts). A federation operator may do everything; a province operator only what
 * concerns its own province (403 otherwise). Errors are JSON `{ error, error_description }` with a
 * stable code and, for validation failures, every `problems` entry.
 *
 * @example
 * curl -H "Authorization: Bearer $TONGBAN_OPERATOR_KEY" https://tongban.example/admin/cities/330100
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { errors } from 'oidc-provider';
import { isTongbanError } from '../platform/errors.ts';
import { readBody } from '../platform/http/body.ts';
import type { Logger } from '../platform/log.ts';
import { isStoreUnavailable } from '../platform/storage/guard.ts';
import { RegistryError, RegistryErrorCode, isRegistryError } from './errors.ts';
import type { OperatorActor } from './actors.ts';
import type { MemberRegistry } from './member-registry.ts';
import { routes } from '../../config/defaults.ts';

export interface AdminApiOptions {
  readonly service: MemberRegistry;
  readonly logger: Logger;
  /** Path prefix (default `/admin`). */
  readonly prefix?: string;
}

type AdminContext = Context & { state: { operator: OperatorActor } };

const bodyLimit = 64 * 1024;

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const body = await readBody(ctx, bodyLimit);
  if (!body) throw new RegistryError(RegistryErrorCode.invalidRequest, 'the request body is larger than 64 KB');
  if (body.length === 0) return {};
  if (!ctx.is('application/json')) throw new RegistryError(RegistryErrorCode.invalidRequest, 'send the body as application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError(RegistryErrorCode.invalidRequest, 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RegistryError(RegistryErrorCode.invalidRequest, 'the body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function bearer(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The middleware, with its router (the OpenAPI test reads the router's route table). */
export function createAdminApi({ service, logger, prefix = routes.admin }: AdminApiOptions): Middleware & { readonly router: Router } {
  const router = new Router({ prefix });
  const op = (ctx: Context) => (ctx as AdminContext).state.operator;
  /** `POST path`: creates what `make` returns from the JSON body, answered 201. */
  const create = (path: string, make: (ctx: Context & { params: Record<string, string> }, body: Record<string, unknown>) => Promise<unknown>) => {
    router.post(path, async (ctx) => {
      const created = await make(ctx, await readJson(ctx));
      ctx.status = 201;
      ctx.body = created;
    });
  };

  router.get('/me', (ctx) => {
    ctx.body = op(ctx);
  });

  router.get('/cities', async (ctx) => {
    ctx.body = { cities: await service.listCities(op(ctx)) };
  });
  create('/cities', (ctx, body) => service.addCity(op(ctx), { code: body.code, name: body.name, registration_scopes: body.registration_scopes }));
  router.get('/cities/:code', async (ctx) => {
    ctx.body = await service.showCity(op(ctx), ctx.params.code);
  });
  create('/cities/:code/apps', (ctx, body) => {
    if (body.city !== undefined && body.city !== ctx.params.code) {
      throw RegistryError.of([{ field: 'city', code: RegistryErrorCode.invalidRequest, message: 'the city is given by the path' }]);
    }
    return service.registerApp(op(ctx), { ...body, city: ctx.params.code });
  });
  create('/cities/:code/initial-access-tokens', (ctx, body) => service.issueInitialAccessToken(op(ctx), { city: ctx.params.code, ttl_seconds: body.ttl_seconds }));

  router.get('/apps/:clientId', async (ctx) => {
    ctx.body = await service.showApp(op(ctx), ctx.params.clientId);
  });
  router.post('/apps/:clientId/suspend', async (ctx) => {
    ctx.body = await service.suspendApp(op(ctx), ctx.params.clientId);
  });
  router.post('/apps/:clientId/resume', async (ctx) => {
    ctx.body = await service.resumeApp(op(ctx), ctx.params.clientId);
  });
  router.post('/apps/:clientId/rotate-secret', async (ctx) => {
    ctx.body = await service.rotateSecret(op(ctx), ctx.params.clientId);
  });
  router.delete('/apps/:clientId', async (ctx) => {
    ctx.body = await service.removeApp(op(ctx), ctx.params.clientId);
  });

  router.get('/audit', async (ctx) => {
    ctx.body = { entries: await service.audit(op(ctx), { city: ctx.query.city, limit: ctx.query.limit }) };
  });

  router.get('/operators', async (ctx) => {
    ctx.body = { operators: await service.listOperators(op(ctx)) };
  });
  create('/operators', (ctx, body) => service.addOperator(op(ctx), { name: body.name, role: body.role, province: body.province }));
  router.post('/operators/:id/revoke', async (ctx) => {
    ctx.body = await service.revokeOperator(op(ctx), ctx.params.id);
  });
  router.post('/operators/:id/rotate-key', async (ctx) => {
    ctx.body = await service.rotateOperatorKey(op(ctx), ctx.params.id);
  });

  // The router's own context type adds params; koa's plain Context is what arrives here.
  const routes = router.routes() as unknown as Middleware;
  const methods = router.allowedMethods() as unknown as Middleware;

  const middleware = async (ctx: Context, next: Next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) {
      await next();
      return;
    }
    ctx.set('cache-control', 'no-store');
    let operator: OperatorActor | undefined;
    try {
      operator = await service.authenticate(bearer(ctx));
      if (!operator) {
        ctx.set('www-authenticate', 'Bearer realm="tongban-admin", error="invalid_token"');
        throw new RegistryError(RegistryErrorCode.invalidToken, 'an active operator API key is required (Authorization: Bearer tbo_…)');
      }
      (ctx as AdminContext).state.operator = operator;
      await routes(ctx, async () => methods(ctx, async () => undefined));
      if (ctx.body === undefined) {
        const allowed = ctx.status === 405;
        ctx.status = allowed ? 405 : 404;
        ctx.body = allowed
          ? { error: 'method_not_allowed', error_description: `${ctx.method} is not offered on ${ctx.path}` }
          : { error: 'not_found', error_description: `no admin operation ${ctx.method} ${ctx.path}` };
      }
      logger.info('admin_request', { method: ctx.method, path: ctx.path, status: ctx.status, operator: operator.id });
    } catch (error) {
      let status = 500;
      let body: Record<string, unknown> = { error: 'server_error', error_description: 'something went wrong on our side' };
      if (isStoreUnavailable(error)) {
        status = 503;
        body = { error: 'temporarily_unavailable', error_description: 'the store is unavailable; try again later' };
      } else if (isTongbanError(error)) {
        status = error.status;
        body = { error: error.code, error_description: error.message, ...(isRegistryError(error) && error.problems.length ? { problems: error.problems } : {}) };
      } else if (error instanceof errors.OIDCProviderError) {
        status = error.status;
        body = { error: error.error, error_description: error.error_description };
      } else {
        logger.error('admin_request_crashed', { method: ctx.method, path: ctx.path, reason: (error as Error)?.name });
      }
      logger.info('admin_request', { method: ctx.method, path: ctx.path, status, code: String(body.error), operator: operator?.id });
      ctx.status = status;
      ctx.body = body;
    }
  };
  return Object.assign(middleware, { router });
}
