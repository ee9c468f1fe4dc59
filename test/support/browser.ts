/**
 * A small user agent for end-to-end tests: Node fetch with `redirect: 'manual'`, a cookie jar that
 * behaves like a browser's (host-only and Domain cookies, Path, Max-Age/Expires, ports ignored),
 * redirect following and plain HTML form submission. No scripts run.
 */

export interface Cookie {
  readonly name: string;
  readonly value: string;
  /** Lower-case host, or the Domain attribute without its leading dot. */
  readonly domain: string;
  /** True when set without a Domain attribute: sent to exactly that host. */
  readonly hostOnly: boolean;
  readonly path: string;
  /** Epoch milliseconds; undefined for a session cookie. */
  readonly expires: number | undefined;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: string | undefined;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname.endsWith('.localhost');
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith('/') || path.lastIndexOf('/') === 0) return '/';
  return path.slice(0, path.lastIndexOf('/'));
}

function domainMatches(host: string, cookie: Cookie): boolean {
  if (cookie.hostOnly) return host === cookie.domain;
  return host === cookie.domain || host.endsWith(`.${cookie.domain}`);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

export class CookieJar {
  readonly #cookies = new Map<string, Cookie>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Stores the cookies of one `Set-Cookie` header value, as received from `url`. */
  set(url: URL | string, header: string): void {
    const from = new URL(url);
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const host = from.hostname.toLowerCase();
    let domain = host;
    let hostOnly = true;
    let path = defaultPath(from);
    let expires: number | undefined;
    let maxAge: number | undefined;
    let secure = false;
    let httpOnly = false;
    let sameSite: string | undefined;
    for (const attribute of attributes) {
      const i = attribute.indexOf('=');
      const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
      const val = i < 0 ? '' : attribute.slice(i + 1).trim();
      if (key === 'domain' && val) {
        const d = val.replace(/^\./, '').toLowerCase();
        if (host !== d && !host.endsWith(`.${d}`)) return; // a browser rejects a foreign Domain
        domain = d;
        hostOnly = false;
      } else if (key === 'path') {
        path = val.startsWith('/') ? val : defaultPath(from);
      } else if (key === 'max-age' && /^-?\d+$/.test(val)) {
        maxAge = Number(val);
      } else if (key === 'expires') {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) expires = t;
      } else if (key === 'secure') {
        secure = true;
      } else if (key === 'httponly') {
        httpOnly = true;
      } else if (key === 'samesite') {
        sameSite = val.toLowerCase();
      }
    }
    // Max-Age wins over Expires.
    if (maxAge !== undefined) expires = this.#now() + maxAge * 1000;
    const id = `${domain};${path};${name}`;
    if (expires !== undefined && expires <= this.#now()) {
      this.#cookies.delete(id);
      return;
    }
    this.#cookies.set(id, { name, value, domain, hostOnly, path, expires, secure, httpOnly, sameSite });
  }

  /** Stores every `Set-Cookie` of a response. */
  store(url: URL | string, response: Response): void {
    for (const header of response.headers.getSetCookie()) this.set(url, header);
  }

  /** The cookies a browser would send to `url`, longest path first. */
  matching(url: URL | string): Cookie[] {
    const to = new URL(url);
    const host = to.hostname.toLowerCase();
    const secureChannel = to.protocol === 'https:' || isLoopback(host);
    const now = this.#now();
    const out: Cookie[] = [];
    for (const [id, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) {
        this.#cookies.delete(id);
        continue;
      }
      if (!domainMatches(host, cookie) || !pathMatches(to.pathname, cookie.path)) continue;
      if (cookie.secure && !secureChannel) continue;
      out.push(cookie);
    }
    return out.sort((a, b) => b.path.length - a.path.length);
  }

  /** The `Cookie` request header for `url`, or undefined when nothing matches. */
  header(url: URL | string): string | undefined {
    const cookies = this.matching(url);
    return cookies.length ? cookies.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  /** A cookie by name, optionally only among those sent to `url`. */
  get(name: string, url?: URL | string): Cookie | undefined {
    const pool = url === undefined ? this.all() : this.matching(url);
    return pool.find((c) => c.name === name);
  }

  all(): Cookie[] {
    const now = this.#now();
    return [...this.#cookies.values()].filter((c) => c.expires === undefined || c.expires > now);
  }

  delete(name: string): void {
    for (const [id, cookie] of this.#cookies) if (cookie.name === name) this.#cookies.delete(id);
  }

  clear(): void {
    this.#cookies.clear();
  }
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | URLSearchParams;
}

export interface FollowOptions extends RequestOptions {
  /** Redirects to follow before giving up (default: the browser's, 20). */
  readonly maxRedirects?: number;
  /**
   * Stop instead of following a redirect to a URL for which this returns true (e.g. a relying
   * party's callback that no server answers in the test); the page then carries `location`.
   */
  readonly stopAt?: (url: URL) => boolean;
}

export interface Page {
  readonly status: number;
  /** URL of the request that produced this response. */
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
  /** Absolute redirect target, when the response is a redirect that was not followed. */
  readonly location: string | undefined;
  /** Every URL requested on the way, the first included. */
  readonly history: readonly string[];
}

export interface SubmitOptions extends FollowOptions {
  /** Which form: its `id`, or its index among the page's forms (default 0). */
  readonly form?: string | number;
}

export interface ParsedForm {
  readonly action: string;
  readonly method: string;
  readonly fields: Array<[string, string]>;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_m, entity: string) => {
    const e = entity.toLowerCase();
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e] ?? '';
  });
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  const inner = tag.replace(/^<\w+/, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** Parses a form of an HTML page: action (resolved against `baseUrl`), method and its successful controls. */
export function parseForm(html: string, baseUrl: string, which: string | number = 0): ParsedForm {
  const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
  const form = typeof which === 'number'
    ? forms[which]
    : forms.find((f) => attributes(f.match(/^<form\b[^>]*>/i)![0]).get('id') === which);
  if (!form) throw new Error(`no form ${String(which)} in the page`);
  const open = attributes(form.match(/^<form\b[^>]*>/i)![0]);
  const fields: Array<[string, string]> = [];
  let submitter: [string, string] | undefined;
  for (const m of form.matchAll(/<(input|button|select|textarea)\b[^>]*>(?:([\s\S]*?)<\/\1>)?/gi)) {
    const kind = m[1]!.toLowerCase();
    const attrs = attributes(m[0].match(/^<\w+\b[^>]*>/)![0]);
    const name = attrs.get('name');
    if (!name || attrs.has('disabled')) continue;
    if (kind === 'textarea') {
      fields.push([name, decodeEntities(m[2] ?? '')]);
    } else if (kind === 'select') {
      const options = [...(m[2] ?? '').matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => ({ attrs: attributes(`<option${o[1]}>`), text: o[2]! }));
      const chosen = options.find((o) => o.attrs.has('selected')) ?? options[0];
      if (chosen) fields.push([name, chosen.attrs.get('value') ?? decodeEntities(chosen.text.trim())]);
    } else {
      const type = (attrs.get('type') ?? (kind === 'button' ? 'submit' : 'text')).toLowerCase();
      if (type === 'submit' || type === 'image') {
        // Implicit submission sends the form's first submit button.
        submitter ??= [name, attrs.get('value') ?? ''];
      } else if (type === 'checkbox' || type === 'radio') {
        if (attrs.has('checked')) fields.push([name, attrs.get('value') ?? 'on']);
      } else if (type !== 'button' && type !== 'reset' && type !== 'file') {
        fields.push([name, attrs.get('value') ?? '']);
      }
    }
  }
  if (submitter) fields.push(submitter);
  return {
    action: new URL(open.get('action') || baseUrl, baseUrl).href,
    method: (open.get('method') || 'get').toUpperCase(),
    fields,
  };
}

export class Browser {
  readonly jar: CookieJar;
  readonly #maxRedirects: number;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(options: { maxRedirects?: number; headers?: Readonly<Record<string, string>>; now?: () => number } = {}) {
    this.jar = new CookieJar(options.now);
    this.#maxRedirects = options.maxRedirects ?? 20;
    this.#headers = { 'user-agent': 'tongban-test-browser/1', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8', ...options.headers };
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string | URL, options: RequestOptions = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers({ ...this.#headers, ...options.headers });
    const cookie = this.jar.header(target);
    if (cookie) headers.set('cookie', cookie);
    if (options.body !== undefined && !headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
    }
    const response = await fetch(target, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(options.body === undefined ? {} : { body: String(options.body) }),
      redirect: 'manual',
    });
    this.jar.store(target, response);
    return response;
  }

  /** One GET, no redirect followed, body read. */
  async get(url: string | URL, options: RequestOptions = {}): Promise<Page> {
    const target = new URL(url);
    return this.#page(target, await this.request(target, { ...options, method: options.method ?? 'GET' }), [target.href]);
  }

  /** Requests `url` and follows redirects (303 and POST-301/302 turn into GET, 307/308 repeat). */
  async follow(url: string | URL, options: FollowOptions = {}): Promise<Page> {
    let target = new URL(url);
    let method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    let body = options.body;
    const history = [target.href];
    const limit = options.maxRedirects ?? this.#maxRedirects;
    for (let hops = 0; ; hops += 1) {
      const response = await this.request(target, { method, ...(options.headers ? { headers: options.headers } : {}), ...(body === undefined ? {} : { body }) });
      const location = response.headers.get('location');
      if (!redirectStatuses.has(response.status) || !location) return this.#page(target, response, history);
      const next = new URL(location, target);
      if (hops >= limit || options.stopAt?.(next) || !/^https?:$/.test(next.protocol)) {
        return this.#page(target, response, history);
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      await response.arrayBuffer();
      target = next;
      history.push(target.href);
    }
  }

  /** Fills and submits a form of `html` (the page found at `baseUrl`), following redirects. */
  async submitForm(html: string, baseUrl: string, fields: Readonly<Record<string, string>> = {}, options: SubmitOptions = {}): Promise<Page> {
    const form = parseForm(html, baseUrl, options.form);
    const data = new URLSearchParams();
    const given = new Set(Object.keys(fields));
    for (const [name, value] of form.fields) if (!given.has(name)) data.append(name, value);
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    const { form: _which, ...follow } = options;
    if (form.method === 'POST') return this.follow(form.action, { ...follow, method: 'POST', body: data });
    const action = new URL(form.action);
    action.search = data.toString();
    return this.follow(action, { ...follow, method: 'GET' });
  }

  async #page(url: URL, response: Response, history: string[]): Promise<Page> {
    const body = await response.text();
    const location = response.headers.get('location');
    return {
      status: response.status,
      url: url.href,
      headers: response.headers,
      body,
      location: redirectStatuses.has(response.status) && location ? new URL(location, url).href : undefined,
      history,
    };
  }
}
