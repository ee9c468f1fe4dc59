/**
 * Every configuration key, its default and what it means. A JSON config file (`TONGBAN_CONFIG` or
 * `--config`) and `TONGBAN_*` environment variables override these; `loadConfig` validates the
 * result and reports every problem at once.
 *
 * Development defaults work out of the box (keys generated into the store under ./data, loopback
 * http issuer and redirect URIs) and print one loud warning. Production refuses to start without
 * real keys and https issuers.
 */

import type { ConfiguredResourceServer } from '../broker/resources/types.ts';

export type Mode = 'development' | 'production';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A client declared in configuration (member-city registry clients come later from the store). */
export interface ConfiguredClient {
  readonly client_id: string;
  /** Omit for public or private_key_jwt clients. */
  readonly client_secret?: string;
  /** GB/T 2260 code of the member city that owns the app. */
  readonly city: string;
  readonly client_name?: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  readonly grant_types?: readonly string[];
  readonly token_endpoint_auth_method?: string;
  readonly id_token_signed_response_alg?: string;
  readonly backchannel_logout_uri?: string;
  /** Space-separated scopes the app may receive. */
  readonly scope?: string;
  /** First-party apps skip the consent page. */
  readonly first_party?: boolean;
  /** Legal-person logins: `person` (default) is `sub` with the company in `represents`, or `company` is `sub` with the person in `act` (docs/legal-persons.md). */
  readonly legal_person_subject?: 'person' | 'company';
}

/**
 * A provincial service system that keeps its legacy ticket API (docs/legacy.md). Systems can also
 * be registered at run time in the store (broker/legacy/registry.ts).
 */
export interface ConfiguredLegacySystem {
  /** The province whose legacy API the system speaks: `zhejiang` or `jiangsu`. */
  readonly province: string;
  /** GB/T 2260 code of the member city that owns the system (in that province). */
  readonly city: string;
  /** Zhejiang `servicecode` / Jiangsu `app_id`. */
  readonly serviceCode: string;
  readonly name: string;
  /** The registered callback: tickets are only ever sent here. */
  readonly callbackUrl: string;
  /** Zhejiang `servicepwd` / Jiangsu `app_secret` (16+ characters); never shown by list or logs. */
  readonly servicePassword: string;
  /** What the system may receive beside its user id: `profile`, `phone`, `id_number`. */
  readonly scopes: readonly string[];
  readonly suspended?: boolean;
}

export interface TongbanConfig {
  /** `development` or `production`. */
  readonly mode: Mode;
  /** Public issuer URL of the broker (https outside development). */
  readonly issuer: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Folder for the SQLite file and other local state. */
  readonly dataDir: string;
  /**
   * Store URL: `sqlite:<path>` (default `sqlite:./data/tongban.sqlite`), `redis://...`,
   * `redis+cluster://host:port,host:port`, `postgres://...`, or `memory:` (unit tests only).
   */
  readonly store: string;
  /** Prefix of every key in the store; deployments (or tests) sharing one server use different ones. */
  readonly storeNamespace: string;
  readonly logLevel: LogLevel;
  readonly keys: {
    /** A JWKS file with private signing keys. Development generates keys into the store instead. */
    readonly signingKeysFile?: string;
    /** Cookie signing keys (at least one, 32+ characters each in production). */
    readonly cookieKeys?: readonly string[];
    /** Secret for pairwise subjects and provincial user ids (32+ characters in production). */
    readonly subjectSecret?: string;
    /** How often each node re-reads the signing key ring (store or file), seconds; see docs/scaling.md. */
    readonly refreshSeconds: number;
  };
  /** Prefix of the broker's cookie names, so several parties on one host do not clash. */
  readonly cookiePrefix: string;
  /** The national platform (upstream OpenID Provider). */
  readonly national: {
    readonly issuer: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** Time-out of each call to the national platform, milliseconds. */
    readonly timeoutMs: number;
  };
  /** Lifetimes, seconds. */
  readonly ttl: {
    readonly session: number;
    readonly interaction: number;
    readonly authorizationCode: number;
    readonly accessToken: number;
    readonly idToken: number;
    readonly refreshToken: number;
    readonly grant: number;
    /** One-time ticket of the legacy bridges (docs/legacy.md). */
    readonly legacyTicket: number;
    /** Token of the Zhejiang legacy API (`getUserInfo`); never beyond the broker session. */
    readonly legacyToken: number;
  };
  readonly clients: readonly ConfiguredClient[];
  /** Legacy service systems declared in configuration. */
  readonly legacySystems?: readonly ConfiguredLegacySystem[];
  /** Resource servers (APIs) declared in configuration, applied to the registry at every start (docs/relying-services.md). */
  readonly resources?: readonly ConfiguredResourceServer[];
  /** Single logout: delivery of back-channel logout tokens to the apps of an ended session. */
  readonly logout: {
    /** A delivery still failing this long after the logout is given up and recorded (seconds). */
    readonly giveUpAfterSeconds: number;
    /** Wait before the first retry (ms); it doubles with each failure up to `maxRetryDelayMs`. */
    readonly firstRetryDelayMs: number;
    readonly maxRetryDelayMs: number;
    /** How often each broker node looks for due deliveries (ms). */
    readonly pollIntervalMs: number;
    /** Time-out of one delivery (ms). */
    readonly deliveryTimeoutMs: number;
    /** How long the record of a given-up delivery is kept for operators (seconds). */
    readonly givenUpRetentionSeconds: number;
  };
}

export const defaults: TongbanConfig = {
  mode: 'development',
  issuer: 'http://127.0.0.1:3000',
  listen: { host: '127.0.0.1', port: 3000 },
  dataDir: './data',
  store: 'sqlite:./data/tongban.sqlite',
  storeNamespace: 'tongban',
  logLevel: 'info',
  keys: { refreshSeconds: 5 },
  cookiePrefix: 'tongban',
  national: {
    issuer: 'http://127.0.0.1:3100',
    clientId: 'tongban-broker',
    clientSecret: 'tongban-broker-development-secret',
    timeoutMs: 5000,
  },
  ttl: {
    session: 8 * 3600,
    interaction: 600,
    authorizationCode: 60,
    accessToken: 600,
    idToken: 600,
    refreshToken: 8 * 3600,
    grant: 8 * 3600,
    legacyTicket: 60,
    legacyToken: 600,
  },
  clients: [],
  legacySystems: [],
  resources: [],
  logout: {
    giveUpAfterSeconds: 24 * 3600,
    firstRetryDelayMs: 2000,
    maxRetryDelayMs: 5 * 60_000,
    pollIntervalMs: 1000,
    deliveryTimeoutMs: 5000,
    givenUpRetentionSeconds: 30 * 24 * 3600,
  },
};

/** Environment variables and the key each sets. Lists are comma-separated. */
export const environment: Readonly<Record<string, { readonly key: string; readonly type: 'string' | 'number' | 'list' }>> = {
  TONGBAN_MODE: { key: 'mode', type: 'string' },
  TONGBAN_ISSUER: { key: 'issuer', type: 'string' },
  TONGBAN_HOST: { key: 'listen.host', type: 'string' },
  TONGBAN_PORT: { key: 'listen.port', type: 'number' },
  TONGBAN_DATA_DIR: { key: 'dataDir', type: 'string' },
  TONGBAN_STORE: { key: 'store', type: 'string' },
  TONGBAN_STORE_NAMESPACE: { key: 'storeNamespace', type: 'string' },
  TONGBAN_LOG_LEVEL: { key: 'logLevel', type: 'string' },
  TONGBAN_SIGNING_KEYS_FILE: { key: 'keys.signingKeysFile', type: 'string' },
  TONGBAN_COOKIE_KEYS: { key: 'keys.cookieKeys', type: 'list' },
  TONGBAN_SUBJECT_SECRET: { key: 'keys.subjectSecret', type: 'string' },
  TONGBAN_KEYS_REFRESH_SECONDS: { key: 'keys.refreshSeconds', type: 'number' },
  TONGBAN_COOKIE_PREFIX: { key: 'cookiePrefix', type: 'string' },
  TONGBAN_NATIONAL_ISSUER: { key: 'national.issuer', type: 'string' },
  TONGBAN_NATIONAL_CLIENT_ID: { key: 'national.clientId', type: 'string' },
  TONGBAN_NATIONAL_CLIENT_SECRET: { key: 'national.clientSecret', type: 'string' },
  TONGBAN_NATIONAL_TIMEOUT_MS: { key: 'national.timeoutMs', type: 'number' },
  TONGBAN_LOGOUT_GIVE_UP_AFTER_SECONDS: { key: 'logout.giveUpAfterSeconds', type: 'number' },
};
