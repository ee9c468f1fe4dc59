/**
 * Structured logs with pino: one JSON object per line. Call sites pass stable codes and technical
 * fields only; pino's `redact` rules blank any field that would carry personal data or a secret
 * should one slip in. Each request gets an id (`x-request-id`, `ctx.state.requestId`), which every
 * line written while serving it carries, so a support reference on an error page finds its lines.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { pino, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Field names that may hold personal data or a credential: blanked at any depth up to two. */
const sensitiveFields = [
  'name', 'id_number', 'idnum', 'cert_no', 'phone', 'phone_number', 'mobile', 'token', 'access_token', 'id_token',
  'refresh_token', 'logout_token', 'authorization_code', 'code_verifier', 'password', 'secret', 'client_secret',
  'ticket', 'cookie', 'authorization',
];
export const redactedPaths: readonly string[] = sensitiveFields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/** The request being served, for the lines its handlers write through any logger. */
const requestScope = new AsyncLocalStorage<{ readonly requestId: string }>();

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly write?: (line: string) => void;
  readonly base?: LogFields;
}

function wrap(logger: PinoLogger): Logger {
  return {
    debug: (event, fields) => logger.debug(fields ?? {}, event),
    info: (event, fields) => logger.info(fields ?? {}, event),
    warn: (event, fields) => logger.warn(fields ?? {}, event),
    error: (event, fields) => logger.error(fields ?? {}, event),
    child: (fields) => wrap(logger.child(fields)),
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.write
    ? { write: (line: string) => options.write!(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ dest: 2, sync: true });
  return wrap(pino({
    level: options.level ?? 'info',
    base: options.base ?? {},
    messageKey: 'event',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    // A request's child logger already names it; any other logger gets it from the request scope.
    mixin: (_fields, _level, instance) => {
      const request = requestScope.getStore();
      return request && instance.bindings().request_id === undefined ? { request_id: request.requestId } : {};
    },
  }, destination));
}

/** A logger that keeps its lines in memory; for tests that assert on log output. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}

/** The id of the request being served (the support reference on error pages), if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

/** Accepted from a proxy in front: short, and nothing that could forge a log line or a header. */
const forwardedRequestId = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Koa middleware, first in the chain: gives the request its id (the one a proxy sent in
 * `x-request-id` when it is well formed, else a new one), returns it in `x-request-id`, keeps it in
 * `ctx.state.requestId` for error pages and a child logger in `ctx.state.logger`, and runs the rest
 * of the request in its scope so that every line logged meanwhile carries `request_id`.
 */
export function requestLogging(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id');
    const requestId = forwardedRequestId.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.logger = logger.child({ request_id: requestId });
    ctx.set('x-request-id', requestId);
    await requestScope.run({ requestId }, next);
  };
}
