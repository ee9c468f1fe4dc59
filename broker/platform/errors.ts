/**
 * Errors with a stable code, an HTTP status, a message safe to show (Chinese and English) and a
 * private detail that only ever goes to the log. The code, status and wording come from the one
 * catalogue (`error-catalogue.ts`); a throw site names the entry and, at most, a detail.
 */
import { codeOf, messageOf, messages, type ErrorKey, type ErrorParams, type Locale } from './error-catalogue.ts';

export { messages, messageOf, codeOf, isErrorKey, type ErrorKey, type ErrorParams, type ErrorWording, type Locale } from './error-catalogue.ts';

/** What a throw site may add to a catalogue entry. */
export interface ErrorOptions {
  /** Private: logged, never shown. Must not contain personal data. */
  readonly detail?: string;
  /** Values for the wording's `{name}` placeholders. Shown: never personal data. */
  readonly params?: ErrorParams;
  readonly cause?: unknown;
}

/**
 * Options of the transitional constructor. `message`, `messageZh` and `status` override the
 * catalogue; new code names a catalogue entry with `tongbanError(key, ...)` instead.
 */
export interface TongbanErrorOptions extends ErrorOptions {
  /** Safe to show to a person or a client. Default: the catalogue's English wording. */
  readonly message?: string;
  /** Chinese text for people. Default: the catalogue's wording, else `message`. */
  readonly messageZh?: string;
  readonly status?: number;
}

export class TongbanError extends Error {
  readonly code: string;
  readonly status: number;
  readonly messageZh: string;
  readonly detail: string | undefined;
  /** The catalogue entry, when the error names one: another language looks its wording up there. */
  readonly key: ErrorKey | undefined;
  readonly params: ErrorParams;

  constructor(code: string, options: TongbanErrorOptions = {}) {
    const key = Object.hasOwn(messages, code) ? (code as ErrorKey) : undefined;
    const params = options.params ?? {};
    const message = options.message ?? (key ? messageOf(key, 'en', params) : code);
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TongbanError';
    this.key = key;
    this.params = params;
    this.code = key ? codeOf(key) : code;
    this.status = options.status ?? (key ? messages[key].status : 400);
    this.messageZh = options.messageZh ?? (key && options.message === undefined ? messageOf(key, 'zh-CN', params) : message);
    this.detail = options.detail;
  }

  /** The wording in one language (the catalogue's when the error names an entry). */
  messageIn(locale: Locale): string {
    if (this.key) return messageOf(this.key, locale, this.params);
    return locale === 'en' ? this.message : this.messageZh;
  }
}

/**
 * The error of a catalogue entry: its code, status and wording, with a private detail.
 *
 * @example
 * throw tongbanError('upstream_denied', { detail: 'authorization response error access_denied' });
 */
export function tongbanError(key: ErrorKey, options: ErrorOptions = {}): TongbanError {
  return new TongbanError(key, options);
}

/** What a page or a JSON answer shows of a catalogue entry. */
export interface ErrorDescription {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  readonly messageZh: string;
}

/**
 * An entry's code, status and wording in both languages, for a page rendered without throwing.
 *
 * @example
 * ctx.body = errorPage(describeError('logout_return_unknown'));
 */
export function describeError(key: ErrorKey, params: ErrorParams = {}): ErrorDescription {
  return { code: codeOf(key), status: messages[key].status, message: messageOf(key, 'en', params), messageZh: messageOf(key, 'zh-CN', params) };
}

/** Stable error codes. Tests assert these, never messages. */
export const ErrorCode = {
  configInvalid: 'config_invalid',
  storeUnavailable: 'store_unavailable',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamTimeout: 'upstream_timeout',
  upstreamRejected: 'upstream_rejected',
  upstreamTokenInvalid: 'upstream_token_invalid',
  upstreamStateMismatch: 'upstream_state_mismatch',
  upstreamDenied: 'upstream_denied',
  identityInvalid: 'identity_invalid',
  interactionExpired: 'interaction_expired',
  notFound: 'not_found',
  internal: 'internal_error',
} as const satisfies Record<string, ErrorKey>;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function isTongbanError(value: unknown): value is TongbanError {
  return value instanceof TongbanError;
}
