/**
 * The parts of a fetch `RequestInit` the broker's own fetches (outbound.ts for apps' URLs,
 * broker/national/http-fetch.ts for the national platform) hand to node:http: its headers and its
 * body as bytes, read one way in both.
 */

/** The headers of `init` as a plain object with lower-case names. */
export function requestHeaders(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (init?.headers) new Headers(init.headers).forEach((value, name) => { out[name] = value; });
  return out;
}

/**
 * The body of `init` as bytes when it is text, a form (which also sets `headers`' content type when
 * none is given) or bytes; undefined without a body; null for another kind (a stream, a Blob).
 */
export function plainRequestBody(init: RequestInit | undefined, headers: Record<string, string>): Buffer | undefined | null {
  const body = init?.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return Buffer.from(body.toString());
  }
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return null;
}
