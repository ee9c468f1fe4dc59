/**
 * Starts the three parties for an end-to-end test: the national-platform simulator, one or more
 * brokers, and relying parties written with openid-client. Everything talks real HTTP on loopback.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { ConfiguredClient, TongbanConfig } from '../../config/defaults.ts';
import { loadConfig, type DeepPartial } from '../../config/load.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { createNationalSimulator, demoPassword, type NationalSimulator } from '../../scripts/dev/simulator/index.ts';
import { Browser, type Page } from './browser.ts';
import { freePort } from '../../scripts/dev/processes.ts';

export { freePort };

export const brokerClient = { clientId: 'tongban-broker', clientSecret: 'tongban-broker-test-secret' };

/** The national-platform simulator on a free port, with the broker at `issuer` as its client. */
export function nationalSimulatorFor(issuer: string, now?: () => number): NationalSimulator {
  return createNationalSimulator({
    issuer: 'http://127.0.0.1:0',
    port: 0,
    ...(now ? { now } : {}),
    clients: [{
      client_id: brokerClient.clientId,
      client_secret: brokerClient.clientSecret,
      redirect_uris: [`${issuer}/national/callback`],
      post_logout_redirect_uris: [`${issuer}/national/logged-out`],
      backchannel_logout_uri: `${issuer}/national/backchannel-logout`,
      client_uri: `${issuer}/account`,
    }],
  });
}

export interface Federation {
  readonly simulator: NationalSimulator;
  readonly broker: Broker;
  readonly issuer: string;
  readonly store: Store;
  readonly logger: ReturnType<typeof createMemoryLogger>;
  stop(): Promise<void>;
}

export interface FederationOptions {
  readonly clients: readonly ConfiguredClient[];
  /** Store URL (default: a fresh memory store). */
  readonly store?: string;
  readonly overrides?: DeepPartial<TongbanConfig>;
  /** The simulator's clock (epoch ms) for the tokens it forges itself, e.g. expired logout tokens. */
  readonly simulatorNow?: () => number;
}

export async function startFederation(options: FederationOptions): Promise<Federation> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const simulator = nationalSimulatorFor(issuer, options.simulatorNow);
  await simulator.start();
  const logger = createMemoryLogger('info');
  // A namespace given in the overrides lets other processes (the cities CLI) open the same store.
  const namespace = options.overrides?.storeNamespace ?? `t${Math.random().toString(36).slice(2, 10)}`;
  const store = await createStore(options.store ?? 'memory:', { namespace, logger });
  const config = loadConfig({
    env: { TONGBAN_MODE: 'development' },
    overrides: {
      issuer,
      listen: { host: '127.0.0.1', port },
      // Many brokers run in one test process: each takes a free metrics port.
      metrics: { listen: { host: '127.0.0.1', port: 0 } },
      store: options.store ?? 'memory:',
      // The rate limits count under the store's namespace too.
      storeNamespace: namespace,
      national: { issuer: simulator.issuer, clientId: brokerClient.clientId, clientSecret: brokerClient.clientSecret, timeoutMs: 2000 },
      clients: [...options.clients],
      ...options.overrides,
    },
  });
  const broker = await createBroker(config, { logger, store });
  await broker.start();
  return {
    simulator,
    broker,
    issuer,
    store,
    logger,
    async stop() {
      await broker.stop();
      await simulator.stop();
      await store.close();
    },
  };
}

/** A relying party as any standard OIDC library would be: discovery URL, client id, secret. */
export interface RelyingParty {
  readonly config: oidc.Configuration;
  readonly clientId: string;
  readonly redirectUri: string;
}

export async function relyingParty(issuer: string, client: { clientId: string; clientSecret?: string; redirectUri: string }): Promise<RelyingParty> {
  const config = await oidc.discovery(new URL(issuer), client.clientId, { redirect_uris: [client.redirectUri] },
    client.clientSecret ? oidc.ClientSecretBasic(client.clientSecret) : oidc.None(), { execute: [oidc.allowInsecureRequests] });
  return { config, clientId: client.clientId, redirectUri: client.redirectUri };
}

export interface AuthorizationAttempt {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export async function authorizationRequest(rp: RelyingParty, params: Record<string, string> = {}): Promise<AuthorizationAttempt> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, state, nonce, codeVerifier };
}

export const stopAtRedirectUri = (rp: RelyingParty) => (url: URL) => url.href.startsWith(rp.redirectUri);

/**
 * Runs the browser through an authorization request: broker → national login page (filled in as
 * `username` when one is shown) → broker → the RP's redirect URI. Returns the final page; its
 * `location` is the callback URL when the flow reached the RP.
 */
export async function browse(browser: Browser, rp: RelyingParty, attempt: AuthorizationAttempt, username?: string, fields: Record<string, string> = {}): Promise<Page> {
  const stopAt = stopAtRedirectUri(rp);
  let page = await browser.follow(attempt.url, { stopAt });
  for (let step = 0; step < 5 && !page.location?.startsWith(rp.redirectUri); step += 1) {
    if (page.status !== 200 || !/<form/i.test(page.body)) break;
    if (/name="password"/.test(page.body)) {
      if (!username) break;
      page = await browser.submitForm(page.body, page.url, { username, password: demoPassword, ...fields }, { stopAt });
    } else {
      page = await browser.submitForm(page.body, page.url, fields, { stopAt });
    }
  }
  return page;
}

/**
 * Accepts the broker's consent page as it stands (every sensitive item ticked), when that is the
 * page: sensitive items need the person's separate consent, first-party apps and legacy bridges
 * included (issue 13), so flows that only pass through consent submit it here.
 */
export async function acceptConsent(browser: Browser, page: Page, stopAt?: (url: URL) => boolean): Promise<Page> {
  if (page.status !== 200 || !/action="\/interaction\/[^"]+\/consent"/.test(page.body)) return page;
  return browser.submitForm(page.body, page.url, {}, stopAt ? { stopAt } : {});
}

/** Logs in and redeems the code; returns the token response. */
export async function login(browser: Browser, rp: RelyingParty, username: string | undefined, params: Record<string, string> = {}) {
  const attempt = await authorizationRequest(rp, params);
  const page = await browse(browser, rp, attempt, username);
  if (!page.location?.startsWith(rp.redirectUri)) {
    throw new Error(`login did not reach the relying party: ${page.status} ${page.url} ${page.body.slice(0, 300)}`);
  }
  const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.location), {
    pkceCodeVerifier: attempt.codeVerifier,
    expectedState: attempt.state,
    expectedNonce: attempt.nonce,
    idTokenExpected: true,
  });
  return { tokens, callback: new URL(page.location), attempt };
}

/** The broker session's uid, from the browser's session cookie. */
export async function sessionUidOf(federation: Federation, browser: Browser): Promise<string> {
  const cookie = browser.jar.get('tongban_session');
  assert.ok(cookie, 'the broker session cookie');
  const session = await federation.broker.provider.Session.find(cookie.value);
  assert.ok(session?.uid);
  return session.uid;
}
