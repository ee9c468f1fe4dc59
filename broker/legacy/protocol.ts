/**
 * What the legacy APIs share: reading parameters from the query and a form body, comparing MD5
 * signatures in constant time, and the window a signed time may be off by.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { readBody } from '../http/body.ts';

/** A signed `time` / `timestamp` more than this far from the broker's clock is refused. */
export const legacyTimeWindowMs = 5 * 60 * 1000;

const bodyLimit = 16 * 1024;

/**
 * The parameters of a legacy call, from the query and (POST) an urlencoded form body. Undefined
 * when the call is malformed: a parameter given twice, a body that is not a form or too large.
 */
export async function legacyParams(ctx: Context): Promise<Map<string, string> | undefined> {
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

/** A lower-case hex MD5 digest as a client may send it (either case). */
export const md5HexPattern = /^[0-9a-fA-F]{32}$/;

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
