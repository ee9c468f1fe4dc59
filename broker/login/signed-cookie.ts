/**
 * Reading the broker's signed cookies (the `cookies` package's scheme: `<name>.sig` holds the
 * HMAC-SHA1 of `<name>=<value>` under one of the cookie keys) at the cost of one HMAC.
 *
 * `ctx.cookies.get(name, { signed: true })` compares signatures with tsscmp (fresh random bytes
 * and two more HMACs per key tried) and keeps a compiled pattern for every cookie name it is ever
 * asked for, for the life of the process: a name that carries the start of a `state` would add
 * two patterns per login, and any request could add more.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Context } from 'koa';

const imported = new WeakMap<readonly string[], readonly KeyObject[]>();

/** The app's cookie keys as HMAC keys, imported once per process; undefined when they are not plain strings. */
function keysOf(ctx: Context): readonly KeyObject[] | undefined {
  const keys: unknown = ctx.app.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'string')) return undefined;
  let keyObjects = imported.get(keys);
  if (!keyObjects) {
    keyObjects = keys.map((key: string) => createSecretKey(Buffer.from(key)));
    imported.set(keys, keyObjects);
  }
  return keyObjects;
}

/** The raw value of cookie `name` in the request, as the `cookies` package finds it (the first one). */
export function requestCookie(ctx: Context, name: string): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header) return undefined;
  const prefix = `${name}=`;
  for (const part of header.split(';')) {
    let start = 0;
    while (part.charCodeAt(start) === 0x20) start += 1;
    if (!part.startsWith(prefix, start)) continue;
    const value = part.slice(start + prefix.length);
    return value.startsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

const signatureUnder = (key: KeyObject, data: string) => createHmac('sha1', key).update(data).digest('base64url');

/** Equal strings, compared in constant time. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A signed cookie whose name is fixed (the interaction cookie): its value when signed under the
 * current key. Any other case (an older key, a bad signature, keys the app keeps otherwise) is left
 * to `ctx.cookies.get`, with everything it does then (re-signing, clearing the signature).
 */
export function signedCookie(ctx: Context, name: string): string | undefined {
  const value = requestCookie(ctx, name);
  if (value === undefined) return undefined;
  const signature = requestCookie(ctx, `${name}.sig`);
  if (signature === undefined) return undefined;
  const current = keysOf(ctx)?.[0];
  if (current && sameText(signatureUnder(current, `${name}=${value}`), signature)) return value;
  return ctx.cookies.get(name, { signed: true });
}

/**
 * A signed cookie whose name changes from login to login: its value when signed under any of the
 * app's cookie keys, undefined otherwise. Not handed to `ctx.cookies.get` (see above) unless the
 * app keeps its keys in another form than a list.
 */
export function signedCookieOnce(ctx: Context, name: string): string | undefined {
  const keys = keysOf(ctx);
  if (!keys) return ctx.cookies.get(name, { signed: true });
  const value = requestCookie(ctx, name);
  if (value === undefined) return undefined;
  const signature = requestCookie(ctx, `${name}.sig`);
  if (signature === undefined) return undefined;
  const data = `${name}=${value}`;
  return keys.some((key) => sameText(signatureUnder(key, data), signature)) ? value : undefined;
}
