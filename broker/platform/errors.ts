/**
 * Errors with a stable code, an HTTP status, a message safe to show (Chinese and English) and a
 * private detail that only ever goes to the log.
 */
export interface TongbanErrorOptions {
  /** Safe to show to a person or a client. */
  readonly message: string;
  /** Chinese text for people; falls back to `message`. */
  readonly messageZh?: string;
  readonly status?: number;
  /** Private: logged, never shown. Must not contain personal data. */
  readonly detail?: string;
  readonly cause?: unknown;
}

export class TongbanError extends Error {
  readonly code: string;
  readonly status: number;
  readonly messageZh: string;
  readonly detail: string | undefined;

  constructor(code: string, options: TongbanErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TongbanError';
    this.code = code;
    this.status = options.status ?? 400;
    this.messageZh = options.messageZh ?? options.message;
    this.detail = options.detail;
  }
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
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function isTongbanError(value: unknown): value is TongbanError {
  return value instanceof TongbanError;
}
