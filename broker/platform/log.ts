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

/** The pino loggers whose own bindings name the request (`request_id`); the mixin leaves those alone. */
const namesItsRequest = new WeakSet<PinoLogger>();

function wrap(logger: PinoLogger): Logger {
  return {
    debug: (event, fields) => logger.debug(fields ?? {}, event),
    info: (event, fields) => logger.info(fields ?? {}, event),
    warn: (event, fields) => logger.warn(fields ?? {}, event),
    error: (event, fields) => logger.error(fields ?? {}, event),
    child: (fields) => {
      const child = logger.child(fields);
      if (fields.request_id !== undefined || namesItsRequest.has(logger)) namesItsRequest.add(child);
      return wrap(child);
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  // Asynchronous: a line never holds up a request while stderr is slow to drain. Lines written
  // while a write is under way wait in the destination's buffer and go out with the next write;
  // pino writes what is left synchronously when the process exits (a crash included).
  const destination = options.write
    ? { write: (line: string) => options.write!(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ dest: 2, sync: false });
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
      return request && !namesItsRequest.has(instance as PinoLogger) ? { request_id: request.requestId } : {};
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

/** Where `requestLogging` keeps a request's child logger once something asked for it. */
const childLoggerKey = Symbol('childLogger');

interface RequestState {
  readonly requestId: string;
  [childLoggerKey]?: Logger;
}

/**
 * Koa middleware, first in the chain: gives the request its id (the one a proxy sent in
 * `x-request-id` when it is well formed, else a new one), returns it in `x-request-id`, keeps it in
 * `ctx.state.requestId` for error pages and a child logger in `ctx.state.logger`, and runs the rest
 * of the request in its scope so that every line logged meanwhile carries `request_id`. The child
 * logger is made when first read: most requests log nothing, and making one costs more than the
 * rest of this middleware (pino serialises and redacts its bindings).
 */
export function requestLogging(logger: Logger) {
  const childLogger: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: RequestState) {
      return (this[childLoggerKey] ??= logger.child({ request_id: this.requestId }));
    },
  };
  // Not async: the rest of the request's promise is returned as it is, without one more around it.
  return (ctx: Context, next: Next) => {
    const given = ctx.req.headers['x-request-id'];
    const requestId = typeof given === 'string' && forwardedRequestId.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    Object.defineProperty(ctx.state, 'logger', childLogger);
    ctx.set('x-request-id', requestId);
    return requestScope.run({ requestId }, next);
  };
}
