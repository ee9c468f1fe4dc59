/**
 * Outbound requests to addresses that apps and services name (back-channel logout URIs, `jwks_uri`,
 * `sector_identifier_uri`): without this, anyone who can register an app could make the broker
 * call into its own network (cloud metadata at 169.254.169.254, Redis on loopback, the admin API).
 *
 * The rules (docs/security.md, "Outbound URLs"):
 * - https only in production; in development plain http only to loopback;
 * - the address connected to must be a public unicast address (ipaddr.js's `unicast` range, after
 *   IPv4-mapped IPv6 is unwrapped); development also allows loopback, never private ranges;
 * - checked twice: on the URL at registration (`checkOutboundUrl`: literal addresses in every
 *   spelling the URL parser accepts, `localhost` names) and at connection time, on the addresses the
 *   name resolved to (`createGuardedFetch`'s `lookup`, then the socket's peer), so a name that
 *   resolves elsewhere later (DNS rebinding) is still refused; every redirect hop is checked again.
 *
 * The national platform is configured by the operator, may sit on a private network, and does not
 * go through here (broker/national/http-fetch.ts).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Mode } from '../../../config/defaults.ts';
import { plainRequestBody, requestHeaders } from './request-init.ts';

/** Stable codes of a refused outbound URL or address. */
export const OutboundRefusal = {
  notUrl: 'outbound_not_url',
  scheme: 'outbound_scheme',
  credentials: 'outbound_credentials',
  address: 'outbound_address',
  tooManyRedirects: 'outbound_too_many_redirects',
  tooLarge: 'outbound_response_too_large',
} as const;
export type OutboundRefusalCode = (typeof OutboundRefusal)[keyof typeof OutboundRefusal];

/** A refused outbound URL or connection; `message` names the rule and never a resolved address. */
export class OutboundRefused extends Error {
  readonly code: OutboundRefusalCode;
  constructor(code: OutboundRefusalCode, message: string) {
    super(message);
    this.name = 'OutboundRefused';
    this.code = code;
  }
}

/**
 * The ipaddr.js range of an address, or undefined when it is not an IP address. IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries.
 */
export function addressRange(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // Only the canonical forms: the URL parser has already turned 0x7f.1 or 2130706433 into 127.0.0.1.
  if (!ipaddr.isValid(bare) || (!bare.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(bare))) return undefined;
  return ipaddr.process(bare).range();
}

/**
 * Whether the broker may connect to this IP address: public unicast always; loopback only in
 * development. Anything that is not an IP address is refused.
 */
export function isAllowedAddress(address: string, mode: Mode): boolean {
  const range = addressRange(address);
  return range === 'unicast' || (mode === 'development' && range === 'loopback');
}

/** Names that always mean this machine (RFC 6761), refused in production without asking DNS. */
function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * The registration-time check of a URL the broker will fetch. Returns the refusal, or undefined when
 * the URL may be stored (its name is resolved and checked again at every connection).
 */
export function checkOutboundUrl(value: string, mode: Mode): OutboundRefused | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return new OutboundRefused(OutboundRefusal.notUrl, 'is not an absolute URL');
  }
  if (url.username || url.password) return new OutboundRefused(OutboundRefusal.credentials, 'carries user credentials');
  const range = addressRange(url.hostname);
  const loopback = range === 'loopback' || (range === undefined && isLoopbackName(url.hostname));
  if (url.protocol === 'http:') {
    if (mode !== 'development' || !loopback) {
      return new OutboundRefused(OutboundRefusal.scheme, 'must use https (plain http only to loopback in development)');
    }
  } else if (url.protocol !== 'https:') {
    return new OutboundRefused(OutboundRefusal.scheme, 'must be an https URL');
  }
  if (loopback && mode === 'development') return undefined;
  if (loopback || (range !== undefined && range !== 'unicast')) {
    return new OutboundRefused(OutboundRefusal.address, `points at a ${loopback ? 'loopback' : range} address, which the broker never calls`);
  }
  return undefined;
}

/** Resolves a host name to all its addresses; the default is the system resolver (`dns.lookup`). */
export type HostResolver = (hostname: string, family: number) => Promise<dns.LookupAddress[]>;

const systemResolver: HostResolver = (hostname, family) => dns.promises.lookup(hostname, { all: true, family: family as 0 | 4 | 6 });

/** A `lookup` for node:net that resolves as usual and refuses when any answer is not allowed. */
export function guardedLookup(mode: Mode, resolve: HostResolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options.family === 4 || options.family === 6 ? options.family : 0).then((list) => {
      if (list.length === 0 || list.some((a) => !isAllowedAddress(a.address, mode))) {
        return callback(new OutboundRefused(OutboundRefusal.address, 'the host name resolves to an address the broker never calls') as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    }, (error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}

export interface GuardedFetchOptions {
  readonly mode: Mode;
  /** Bound of the whole exchange, redirects included (default 5000 ms); a caller's signal also ends it. */
  readonly timeoutMs?: number;
  /** Redirect hops followed when the caller asks for `redirect: 'follow'` (the default); default 3. */
  readonly maxRedirects?: number;
  /** Largest response body read (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** The name resolver (tests stand in a rebinding DNS); default the system resolver. */
  readonly resolver?: HostResolver;
}

export type GuardedFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A connection or policy failure, as fetch reports one: `TypeError('fetch failed')` with the cause. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

/** The body as bytes; a stream or a Blob is read whole first. */
async function requestBody(init: RequestInit | undefined, headers: Record<string, string>): Promise<Buffer | undefined> {
  const plain = plainRequestBody(init, headers);
  if (plain !== null) return plain;
  return Buffer.from(await new Response(init!.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

/**
 * A fetch that applies the outbound rules at every connection and on every redirect hop. It is what
 * oidc-provider's `fetch` option and the back-channel logout deliveries use.
 *
 * @example
 * const fetch = createGuardedFetch({ mode: config.mode });
 * await fetch('https://app.example.cn/logout', { method: 'POST', body });
 */
export function createGuardedFetch(options: GuardedFetchOptions): GuardedFetch {
  const { mode } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRedirects = options.maxRedirects ?? 3;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const lookup = guardedLookup(mode, options.resolver);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 32, lookup } as http.AgentOptions),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 32, lookup } as https.AgentOptions),
  };

  function once(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const refusal = checkOutboundUrl(url.href, mode);
      if (refusal) return reject(fetchFailed(refusal));
      if (signal.aborted) return reject(signal.reason);
      const transport = url.protocol === 'https:' ? https : http;
      const onAbort = () => { request.destroy(); reject(signal.reason); };
      const request = transport.request(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent: agents[url.protocol as 'http:' | 'https:'], lookup }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) {
            request.destroy();
            reject(fetchFailed(new OutboundRefused(OutboundRefusal.tooLarge, `the response is larger than ${maxBodyBytes} bytes`)));
          } else chunks.push(chunk);
        });
        response.on('error', (error) => reject(fetchFailed(error)));
        response.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          const status = response.statusCode ?? 502;
          const responseHeaders = new Headers();
          const raw = response.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
          const empty = status === 204 || status === 304 || method === 'HEAD';
          const result = new Response(empty ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage ?? '', headers: responseHeaders });
          Object.defineProperty(result, 'url', { value: url.href });
          resolve(result);
        });
      });
      // The second line: whatever resolved the name, the peer actually connected to is judged too
      // (a kept-alive socket was judged when it was opened).
      request.on('socket', (socket: Socket) => {
        const judge = () => {
          if (socket.remoteAddress && !isAllowedAddress(socket.remoteAddress, mode)) {
            socket.destroy(new OutboundRefused(OutboundRefusal.address, 'the connection reached an address the broker never calls'));
          }
        };
        if (socket.remoteAddress) judge();
        else socket.once('connect', judge);
      });
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(fetchFailed(error));
      });
      request.end(body);
    });
  }

  return async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : input);
    let method = (init?.method ?? 'GET').toUpperCase();
    const headers = requestHeaders(init);
    let body = await requestBody(init, headers);
    const signals = [AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])];
    const signal = AbortSignal.any(signals);
    const redirect = init?.redirect ?? 'follow';
    for (let hop = 0; ; hop += 1) {
      const response = await once(url, method, headers, body, signal);
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || location === null || redirect === 'manual') return response;
      if (redirect === 'error') throw fetchFailed(new Error('redirect refused'));
      if (hop >= maxRedirects) throw fetchFailed(new OutboundRefused(OutboundRefusal.tooManyRedirects, `more than ${maxRedirects} redirects`));
      const next = new URL(location, url);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      // Credentials never follow a redirect to another origin.
      if (next.origin !== url.origin) delete headers.authorization;
      url = next;
    }
  };
}
