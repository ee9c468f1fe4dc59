/**
 * Transport rules of the public listener:
 *
 * - `X-Forwarded-*` (and `Forwarded`, `X-Real-IP`) say which address a request came from and
 *   whether it was https: rate limits, logs and oidc-provider's URLs believe them. They are only
 *   believed from the reverse proxies the operator names in `proxy.trusted`; from any other peer
 *   they are removed before anything reads them, so a client cannot pick its own address or
 *   scheme. Koa's `app.proxy` stays on; stripping per request (rather than switching `app.proxy`,
 *   which every concurrent request shares) is what makes it per peer.
 * - Behind trusted proxies the client is the right-most `X-Forwarded-For` address that is not a
 *   trusted proxy itself (what `proxy-addr` does); addresses a client wrote further left are dropped.
 * - An https issuer sends `Strict-Transport-Security`, so a browser that has been here once never
 *   again sends a session cookie or a login over plain http.
 */
import type { Context, Middleware, Next } from 'koa';
import ipaddr from 'ipaddr.js';

/** One year, as the HSTS preload rules ask; no `includeSubDomains`: other hosts of the domain are not ours. */
export const hstsValue = 'max-age=31536000';

/** The request headers that speak for a proxy. */
const forwardingHeaders = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'forwarded', 'x-real-ip'];

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRanges(trusted: readonly string[]): Range[] {
  return trusted.map((entry) => {
    if (ipaddr.isValidCIDR(entry)) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
        ? [(address as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)]
        : [address, bits];
    }
    const address = ipaddr.process(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  });
}

/** Whether `address` (as a socket reports it, IPv4-mapped or not) is one of the trusted proxies. */
export function createProxyMatcher(trusted: readonly string[]): (address: string | undefined) => boolean {
  const ranges = parseRanges(trusted);
  return (address) => {
    if (!address || ranges.length === 0) return false;
    const bare = address.trim().replace(/^\[(.*)\]$/, '$1');
    if (!ipaddr.isValid(bare)) return false;
    const parsed = ipaddr.process(bare);
    return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range as never, bits));
  };
}

/**
 * Koa middleware: forwarding headers only from trusted proxies. Use it first, before anything
 * reads `ctx.ip`, `ctx.protocol` or `ctx.host`, with `app.proxy = true`.
 *
 * @example
 * provider.proxy = true;
 * provider.use(trustForwardingFrom(config.proxy?.trusted ?? []));
 */
export function trustForwardingFrom(trusted: readonly string[]): Middleware {
  const isTrusted = createProxyMatcher(trusted);
  // Not async, as the middleware below: nothing runs after the handlers.
  return function forwardingFromTrustedProxies(ctx: Context, next: Next) {
    const headers = ctx.req.headers;
    if (!isTrusted(ctx.req.socket.remoteAddress)) {
      for (const name of forwardingHeaders) if (name in headers) delete headers[name];
    } else {
      const chain = String(headers['x-forwarded-for'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      // From the right: the first hop that is not one of our proxies is the client.
      let client: string | undefined;
      for (let i = chain.length - 1; i >= 0; i -= 1) {
        client = chain[i];
        if (!isTrusted(client)) break;
      }
      if (client && ipaddr.isValid(client.replace(/^\[(.*)\]$/, '$1'))) headers['x-forwarded-for'] = client;
      else delete headers['x-forwarded-for'];
    }
    return next();
  };
}

/** Koa middleware: HSTS on every response when the issuer is https; nothing otherwise. */
export function strictTransport(issuer: string): Middleware {
  // Over http there is nothing to send: the request passes straight on.
  if (!issuer.startsWith('https://')) return (_ctx: Context, next: Next) => next();
  return async function strictTransportSecurity(ctx: Context, next: Next) {
    ctx.set('strict-transport-security', hstsValue);
    try {
      await next();
    } catch (error) {
      // Koa builds an error response afresh, from the error's own `headers`: carry it there.
      if (error && typeof error === 'object') {
        const carrier = error as { headers?: Record<string, string> };
        carrier.headers = { ...carrier.headers, 'strict-transport-security': hstsValue };
      }
      throw error;
    }
  };
}
