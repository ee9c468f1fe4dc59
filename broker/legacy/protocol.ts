/**
 * What the legacy APIs share: reading parameters from the query and a form body, comparing MD5
 * signatures in constant time, the window a signed time may be off by, and how a call is answered.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { LegacyFailure, LegacyOutcome, LegacyResponse } from '../../adapters/legacy.ts';
import { isTongbanError } from '../platform/errors.ts';
import { readBody } from '../platform/http/body.ts';
import type { Logger } from '../platform/log.ts';
import { metricsOf } from '../platform/metrics/index.ts';
import { isStoreUnavailable } from '../platform/storage/guard.ts';

/** A signed `time` / `timestamp` more than this far from the broker's clock is refused. */
export const legacyTimeWindowMs = 5 * 60 * 1000;

/**
 * How long a used (service code, time, sign) is remembered: a signed time is accepted from
 * `legacyTimeWindowMs` before the clock to as far after it, so twice the window, plus clock slack.
 */
export const legacyReplayMemoryMs = 2 * legacyTimeWindowMs + 60 * 1000;

/** The store key that marks a signed call as used; the values only as a SHA-256 digest. */
export function legacyReplayKey(province: string, serviceCode: string, time: string, sign: string): string {
  const digest = createHash('sha256').update(`${serviceCode}\n${time}\n${sign.toLowerCase()}`).digest('base64url');
  return `legacy:signed:${province}:${digest}`;
}

const bodyLimit = 16 * 1024;

/**
 * The parameters of a legacy call, from the query and (POST) an urlencoded form body. Undefined
 * when the call is malformed: a parameter given twice, a body that is not a form or too large.
 */
export async function legacyParams(ctx: Context): Promise<Map<string, string> | undefined> {
  // The body can be read once: the rate-limit guard and the call itself share the parse.
  const parsed = ctx.state.legacyParams as { params: Map<string, string> | undefined } | undefined;
  if (parsed) return parsed.params;
  const params = await parseLegacyParams(ctx);
  ctx.state.legacyParams = { params };
  return params;
}

/** The service a legacy call names (`servicecode`, or Jiangsu's `app_id`), query or form body. */
export async function legacyServiceOf(ctx: Context): Promise<string | undefined> {
  const params = await legacyParams(ctx);
  return params?.get('servicecode') ?? params?.get('app_id') ?? undefined;
}

async function parseLegacyParams(ctx: Context): Promise<Map<string, string> | undefined> {
  const params = new Map<string, string>();
  let duplicate = false;
  const add = (entries: URLSearchParams) => {
    for (const [name, value] of entries) {
      if (params.has(name)) duplicate = true;
      params.set(name, value);
    }
  };
  add(new URLSearchParams(ctx.querystring));
  if (ctx.method === 'POST') {
    const body = await readBody(ctx, bodyLimit);
    if (!body) return undefined;
    if (body.length > 0) {
      if (!ctx.get('content-type').toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined;
      add(new URLSearchParams(body.toString('utf8')));
    }
  }
  return duplicate ? undefined : params;
}

/** Compares an expected hex digest with a given one in constant time. */
export function signatureMatches(expectedHex: string, givenHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'utf8');
  const given = Buffer.from(givenHex.toLowerCase(), 'utf8');
  // timingSafeEqual needs equal lengths; the length of an MD5 hex digest is no secret.
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function withinWindow(epochMs: number, now: number): boolean {
  return Math.abs(now - epochMs) <= legacyTimeWindowMs;
}

/**
 * Answers one legacy API call as uncached JSON: 503 when the store is unavailable, 500 for any
 * other failure, 200 otherwise (the result code says the rest); one log line per call.
 */
export async function answerLegacyCall(
  ctx: Context,
  logger: Logger,
  province: string,
  call: (ctx: Context) => Promise<LegacyOutcome>,
  respond: (outcome: LegacyOutcome) => LegacyResponse,
): Promise<void> {
  ctx.set('cache-control', 'no-store');
  let outcome: LegacyOutcome | LegacyFailure;
  try {
    outcome = await call(ctx);
  } catch (error) {
    // The national platform out of reach (a company ticket's mandate check) is unavailable too.
    outcome = isStoreUnavailable(error) || (isTongbanError(error) && error.code.startsWith('upstream_'))
      ? { result: 'unavailable' }
      : { result: 'internal', reason: (error as Error)?.name ?? 'unknown' };
  }
  const { code, method, body } = respond(outcome);
  // For the rate limits (platform/rate-limit/middleware.ts): a wrong signature counts as a failure.
  ctx.state.legacyOutcome = { result: outcome.result, service: outcome.service };
  const level = outcome.result === 'internal' ? 'error' : outcome.result === 'ok' ? 'info' : 'warn';
  logger[level]('legacy_call', { province, service: outcome.service, method, result: code, reason: outcome.reason });
  metricsOf(ctx)?.legacyValidation(province, method, outcome.result);
  ctx.status = outcome.result === 'unavailable' ? 503 : outcome.result === 'internal' ? 500 : 200;
  ctx.type = 'application/json';
  ctx.body = body;
}
