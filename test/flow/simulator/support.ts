/**
 * Shared set-up of the simulator tests: one national-platform simulator per describe, driven the way
 * the broker drives it (openid-client with discovery, PKCE S256, state, nonce, and a cookie-jar
 * browser on the real pages), with a receiver that keeps what the simulator posts back.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createNationalSimulator, demoPassword, type NationalSimulator } from '../../../scripts/dev/simulator/index.ts';
import type { Browser, Page } from '../../support/browser.ts';

export const clientId = 'tongban-broker';
export const clientSecret = 'simulator-test-secret-0123456789abcdef';
export const allScopes = 'openid profile phone id_number entities';

export interface Received {
  readonly path: string;
  readonly body: URLSearchParams;
}

export interface Attempt {
  readonly page: Page;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export interface Redeemed {
  readonly tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  readonly idClaims: oidc.IDToken;
  readonly userinfo: oidc.UserInfoResponse;
}

/** The running simulator and the relying-party steps the tests take against it. */
export interface NationalSimulatorFixture {
  sim: NationalSimulator;
  config: oidc.Configuration;
  redirectUri: string;
  postLogoutUri: string;
  readonly received: Received[];
  atCallback(url: URL): boolean;
  authorize(browser: Browser, params?: Record<string, string>): Promise<Attempt>;
  submit(browser: Browser, page: Page, fields?: Record<string, string>): Promise<Page>;
  redeem(attempt: Attempt, page?: Page): Promise<Redeemed>;
  logIn(browser: Browser, username: string, params?: Record<string, string>): Promise<{ attempt: Attempt; after: Page } & Partial<Redeemed>>;
}

/** Starts a simulator before the tests of the calling describe, stops it after, and resets its behaviour after each test. */
export function useNationalSimulator(): NationalSimulatorFixture {
  let receiver: Server;
  const received: Received[] = [];
  const fixture = { received } as NationalSimulatorFixture;

  before(async function () {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
        res.statusCode = 200;
        res.end();
      });
    });
    const base = `http://127.0.0.1:${await listen(receiver)}`;
    fixture.redirectUri = `${base}/national/callback`;
    fixture.postLogoutUri = `${base}/national/logged-out`;
    fixture.sim = createNationalSimulator({
      issuer: 'http://127.0.0.1:0',
      port: 0,
      clients: [{
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [fixture.redirectUri],
        post_logout_redirect_uris: [fixture.postLogoutUri],
        backchannel_logout_uri: `${base}/national/backchannel-logout`,
      }],
    });
    await fixture.sim.start();
    // openid-client skips the ID token signature by default (TLS vouches for the token endpoint);
    // the broker checks it, and so does this relying party.
    fixture.config = await oidc.discovery(new URL(fixture.sim.issuer), clientId, clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
    });
  });

  after(async function () {
    await fixture.sim?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  afterEach(async function () {
    await fixture.sim.behave();
  });

  fixture.atCallback = (url: URL) => url.href.startsWith(fixture.redirectUri) || url.href.startsWith(fixture.postLogoutUri);

  fixture.authorize = async (browser: Browser, params: Record<string, string> = {}): Promise<Attempt> => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(fixture.config, {
      redirect_uri: fixture.redirectUri,
      scope: allScopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return { page: await browser.follow(url, { stopAt: fixture.atCallback }), verifier, state, nonce };
  };

  fixture.submit = async (browser: Browser, page: Page, fields: Record<string, string> = {}): Promise<Page> =>
    browser.submitForm(page.body, page.url, fields, { stopAt: fixture.atCallback });

  fixture.redeem = async (attempt: Attempt, page: Page = attempt.page) => {
    const location = page.location;
    if (!location?.startsWith(fixture.redirectUri)) assert.fail(`expected a redirect to the callback, got ${page.status} ${page.url}`);
    const tokens = await oidc.authorizationCodeGrant(fixture.config, new URL(location), {
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(fixture.config, tokens.access_token, idClaims.sub);
    return { tokens, idClaims, userinfo };
  };

  /** Logs a person in through the login page; returns the redeemed result. */
  fixture.logIn = async (browser: Browser, username: string, params: Record<string, string> = {}) => {
    const attempt = await fixture.authorize(browser, params);
    assert.match(attempt.page.body, /国家政务服务平台 统一身份认证/);
    const after = await fixture.submit(browser, attempt.page, { username, password: demoPassword });
    return { attempt, after, ...(after.location ? await fixture.redeem(attempt, after) : {}) };
  };

  return fixture;
}
