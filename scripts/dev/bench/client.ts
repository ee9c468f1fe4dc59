/**
 * The load generator's user agent: node:http with keep-alive, a per-person cookie jar (Path and
 * expiry honoured, ports ignored as browsers do), redirects followed, HTML forms read from the
 * page. Lean on purpose: the load generator shares the machine with what it measures.
 */
import http, { type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly url: URL;
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });

export function send(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: options.method ?? 'GET',
      headers: {
        ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
        ...options.headers,
      },
      agent,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'), url }));
      response.on('error', reject);
    });
    request.setTimeout(30_000, () => request.destroy(new Error(`timeout: ${url.pathname}`)));
    request.on('error', reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

interface Cookie {
  readonly value: string;
  readonly path: string;
  readonly expires: number | undefined;
}

/** One person's browser: its cookies, its redirects. */
export class UserAgent {
  readonly #cookies = new Map<string, Cookie>();

  #store(answer: Answer): void {
    const header = answer.headers['set-cookie'];
    if (!header) return;
    for (const line of header) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      let path = '/';
      let expires: number | undefined;
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.trim().split('=');
        const k = key.toLowerCase();
        if (k === 'path') path = value || '/';
        else if (k === 'max-age') expires = Date.now() + Number(value) * 1000;
        else if (k === 'expires' && expires === undefined) expires = Date.parse(value);
      }
      if (expires !== undefined && expires <= Date.now()) this.#cookies.delete(name);
      else this.#cookies.set(name, { value: pair.slice(eq + 1).trim(), path, expires });
    }
  }

  #header(url: URL): string | undefined {
    const now = Date.now();
    const pairs: string[] = [];
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) continue;
      const p = cookie.path;
      if (url.pathname === p || url.pathname.startsWith(p.endsWith('/') ? p : `${p}/`)) pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length ? pairs.join('; ') : undefined;
  }

  async request(url: URL, options: { method?: string; form?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = this.#header(url);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const answer = await send(url, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
    this.#store(answer);
    return answer;
  }

  /**
   * Requests `url` and follows redirects until one would lead to a URL for which `stopAt` is true
   * (returned as `location`) or a page is answered.
   */
  async follow(url: URL, options: { method?: string; form?: Record<string, string>; stopAt?: (url: URL) => boolean } = {}): Promise<Answer & { location?: URL }> {
    let target = url;
    let method = options.method;
    let form = options.form;
    for (let hops = 0; hops < 20; hops += 1) {
      const answer = await this.request(target, { ...(method ? { method } : {}), ...(form ? { form } : {}) });
      const location = answer.headers.location;
      if (answer.status < 300 || answer.status >= 400 || !location) return answer;
      const next = new URL(location, target);
      if (options.stopAt?.(next)) return { ...answer, location: next };
      target = next;
      method = undefined;
      form = undefined;
    }
    throw new Error(`too many redirects from ${url.pathname}`);
  }
}

/** The first form of a page: its action (absolute) and the values of its named inputs. */
export function readForm(answer: Answer): { action: URL; fields: Record<string, string> } {
  const form = /<form\b[^>]*>[\s\S]*?<\/form>/i.exec(answer.body)?.[0];
  if (!form) throw new Error(`no form on ${answer.url.pathname} (${answer.status})`);
  const action = /\baction="([^"]*)"/i.exec(form)?.[1] ?? answer.url.href;
  const fields: Record<string, string> = {};
  for (const input of form.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    if (name) fields[name] = /\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '';
  }
  return { action: new URL(action.replaceAll('&amp;', '&'), answer.url), fields };
}
