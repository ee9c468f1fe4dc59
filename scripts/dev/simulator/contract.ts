/**
 * The simulator's contract with its users (tests, the demo, the bench): its options, the broker
 * as its default client, the national scopes and claims it releases, and what it answers.
 */
import type { Misbehaviour } from './misbehaviour.ts';

export const defaultSimulatorPort = 3100;
export const defaultBrokerClientId = 'tongban-broker';
export const defaultBrokerClientSecret = 'tongban-broker-development-secret';
export const defaultBrokerRedirectUri = 'http://127.0.0.1:3000/national/callback';
export const defaultBrokerPostLogoutRedirectUri = 'http://127.0.0.1:3000/national/logged-out';
export const defaultBrokerBackchannelLogoutUri = 'http://127.0.0.1:3000/national/backchannel-logout';

/** Scopes the simulator knows and the claims each releases. */
export const nationalScopeClaims = {
  openid: ['sub'],
  profile: ['name'],
  phone: ['phone_number'],
  id_number: ['cert_type', 'cert_no', 'cert_key'],
  entities: ['entities'],
  /** No claims: lets the access token ask the licence library (licence-routes.ts). */
  licences: [],
} as const;
export const nationalScopes = Object.keys(nationalScopeClaims) as Array<keyof typeof nationalScopeClaims>;

export interface SimulatorClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  readonly backchannel_logout_uri?: string;
  /** Default `client_secret_post` (what openid-client uses when given a secret). */
  readonly token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic';
  /** Default `RS256`. */
  readonly id_token_signed_response_alg?: 'RS256' | 'ES256';
  readonly client_name?: string;
  /** The client's home page (OIDC registration `client_uri`): the way on from a dead-end page. */
  readonly client_uri?: string;
}

/** The broker as the simulator's client, with the development defaults. */
export function defaultBrokerClient(): SimulatorClient {
  return {
    client_id: defaultBrokerClientId,
    client_secret: defaultBrokerClientSecret,
    redirect_uris: [defaultBrokerRedirectUri],
    post_logout_redirect_uris: [defaultBrokerPostLogoutRedirectUri],
    backchannel_logout_uri: defaultBrokerBackchannelLogoutUri,
    client_name: '通办 tongban',
    client_uri: 'http://127.0.0.1:3000/account',
  };
}

export interface NationalSimulatorOptions {
  /** e.g. `http://127.0.0.1:3100`; no path. With `port: 0` its port is replaced by the real one. */
  readonly issuer: string;
  /** Port to listen on; defaults to the issuer's. `0` picks a free one. */
  readonly port?: number;
  readonly clients: readonly SimulatorClient[];
  /** Cookie names are `<prefix>_session`, `<prefix>_interaction`, `<prefix>_resume`. Default `national`. */
  readonly cookiePrefix?: string;
  /** Epoch milliseconds; anchors mandate expiries and the tokens the simulator forges. Default `Date.now`. */
  readonly now?: () => number;
}

export interface MisbehaveOptions {
  /** For `slow`: delay of every response, milliseconds (default 3000). */
  readonly delayMs?: number;
}

/** One national session of a person, as the simulator holds it. */
export interface NationalSession {
  readonly uid: string;
  readonly sub: string;
  readonly acr: string | undefined;
  readonly amr: readonly string[];
  /** Epoch seconds of the authentication. */
  readonly authTime: number | undefined;
  /** `sid` per client that took part in the session. */
  readonly sids: Readonly<Record<string, string>>;
}

export interface BackchannelDelivery {
  readonly clientId: string;
  readonly sid: string | undefined;
  /** HTTP status of the client's answer; undefined when the request failed. */
  readonly status: number | undefined;
  readonly error?: string;
}

export interface NationalSimulator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The issuer identifier (final once `start()` resolved). */
  readonly issuer: string;
  /** Where it listens, `http://host:port`. */
  readonly url: string;
  /** The misbehaviour in force, if any. */
  readonly mode: Misbehaviour | undefined;
  /** Switches to one misbehaviour (replacing any other). Await it: `down` closes the listening socket. */
  misbehave(mode: Misbehaviour, options?: MisbehaveOptions): Promise<void>;
  /** Back to normal; reopens the listening socket after `down`. */
  behave(): Promise<void>;
  /** The national platform stops listing this mandate. */
  revokeMandate(username: string, creditCode: string): void;
  setMandateExpiry(username: string, creditCode: string, epochSeconds: number): void;
  /** The claims the simulator currently releases for a person (what ID token and userinfo carry, minus acr/amr/auth_time). */
  claimsOf(username: string): Record<string, unknown>;
  /** The opaque national `sub` of a demo account. */
  subjectOf(username: string): string;
  sessionsOf(username: string): NationalSession[];
  /** A back-channel logout token for a person and client, signed with the simulator's key. */
  logoutToken(username: string, clientId: string, sid?: string): Promise<string>;
  /**
   * National logout without a browser: ends the person's national sessions and POSTs a logout token
   * to each client with a `backchannel_logout_uri` that took part (one per `sid`). With no national
   * session, every such client gets one token carrying `sub` only.
   */
  backchannelLogout(username: string): Promise<BackchannelDelivery[]>;
}
