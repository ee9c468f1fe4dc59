/**
 * Structured logs: one JSON object per line. Call sites pass stable codes and technical fields
 * only; a short deny-list below drops fields that would carry personal data or secrets should one
 * slip in.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const redacted = new Set([
  'name', 'id_number', 'idnum', 'phone', 'phone_number', 'token', 'access_token', 'id_token',
  'refresh_token', 'authorization_code', 'password', 'secret', 'client_secret', 'ticket', 'cookie',
]);

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly write?: (line: string) => void;
  readonly base?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = levels[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.base ?? {};
  const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (levels[level] < threshold) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries({ ...base, ...fields })) {
      if (value === undefined) continue;
      record[key] = redacted.has(key) ? '[redacted]' : value;
    }
    write(JSON.stringify(record));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** A logger that keeps its lines in memory; for tests that assert on log output. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}
