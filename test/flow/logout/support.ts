/**
 * Shared set-up of the single-logout flow tests: an app's back-channel receiver, a poll-until helper,
 * the portal registration and a browser walk through the broker's and the national logout pages.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWTPayload } from 'jose';
import type { ConfiguredClient } from '../../../config/defaults.ts';
import type { Browser, Page } from '../../support/browser.ts';
import { freePort } from '../../support/federation.ts';

export const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

/** An app's back-channel logout endpoint: answers `status`, keeps every logout token it is sent. */
export class Receiver {
  readonly tokens: string[] = [];
  status = 200;
  readonly port: number;
  #server: Server | undefined;
  constructor(port: number) {
    this.port = port;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/backchannel-logout`;
  }
  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
        if (token && this.status === 200) this.tokens.push(token);
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
  }
}

export async function receiver(): Promise<Receiver> {
  const r = new Receiver(await freePort());
  await r.up();
  return r;
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const portal = (id: string, city: string, backchannel?: Receiver): ConfiguredClient => ({
  client_id: id,
  client_secret: `${id}-secret`,
  client_name: `${id} portal`,
  city,
  redirect_uris: [`http://127.0.0.1:9/${id}/callback`],
  post_logout_redirect_uris: [`http://127.0.0.1:9/${id}/logged-out`],
  scope: 'openid profile',
  first_party: true,
  ...(backchannel ? { backchannel_logout_uri: backchannel.url } : {}),
});

export const atPortal = (url: URL) => url.origin === 'http://127.0.0.1:9';

/** Runs a logout in the browser: confirms at the broker and at the national platform. */
export async function logoutThrough(browser: Browser, start: string | URL, form?: { page: Page; id: string }): Promise<{ final: Page; seen: string[] }> {
  const seen: string[] = [];
  let page = form
    ? await browser.submitForm(form.page.body, form.page.url, { logout: 'yes' }, { form: form.id, stopAt: atPortal })
    : await browser.follow(start, { stopAt: atPortal });
  seen.push(...page.history);
  for (let step = 0; step < 4 && !page.location && page.status === 200 && /<form/i.test(page.body); step += 1) {
    page = await browser.submitForm(page.body, page.url, { logout: 'yes' }, { stopAt: atPortal });
    seen.push(...page.history);
  }
  return { final: page, seen };
}

export interface SignedIn {
  readonly browser: Browser;
  /** ID token claims and tokens per client id. */
  readonly at: Record<string, { claims: JWTPayload; idToken: string; accessToken: string }>;
}
