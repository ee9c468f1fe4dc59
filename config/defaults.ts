/**
 * Every configuration key, its default and what it means. A JSON config file (`TONGBAN_CONFIG` or
 * `--config`) and `TONGBAN_*` environment variables override these; `loadConfig` validates the
 * result and reports every problem at once.
 *
 * Development defaults work out of the box (keys generated into the store under ./data, loopback
 * http issuer and redirect URIs) and print one loud warning. Production refuses to start without
 * real keys and https issuers.
 */

import type { ConfiguredResourceServer } from './rules/resources.ts';

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
  /** Mandate scopes an agent must hold to act for a company at this app (docs/legal-persons.md). */
  readonly required_mandate_scopes?: readonly string[];
  /** The purpose the app states for each sensitive scope (`id_number`, `phone`, `legal_person`), shown on the consent page. */
  readonly purposes?: Readonly<Record<string, string>>;
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

/**
 * One rate limit: at most `points` requests (or failures) in `durationSeconds`; the request over it
 * gets 429 with Retry-After, and the key stays refused for `blockSeconds` (default: until the
 * window ends). Counted in the store, so the limit holds across every broker node.
 */
export interface RateLimit {
  readonly points: number;
  readonly durationSeconds: number;
  readonly blockSeconds?: number;
}

/** Every rate limit of the broker (docs/security.md lists them with their errors). */
export interface RateLimits {
  /** `false` turns every limit off (benchmarks of raw capacity only; never in production). */
  readonly enabled: boolean;
  /** Per client id, on the endpoints a client calls. */
  readonly perClient: {
    readonly token: RateLimit;
    readonly introspection: RateLimit;
    readonly revocation: RateLimit;
    readonly userinfo: RateLimit;
    /** RFC 7592 reads, updates and deletes of a registered app. */
    readonly registration: RateLimit;
  };
  /** Per source address, on the doors people and operators use (one office NAT holds many people). */
  readonly perAddress: {
    readonly authorization: RateLimit;
    readonly interactions: RateLimit;
    readonly legacyLogin: RateLimit;
    readonly adminApi: RateLimit;
    /** RFC 7591 registrations (no client id yet). */
    readonly registration: RateLimit;
  };
  /** Per person: logins of one national subject (keyed by a hash, never the subject itself). */
  readonly perPerson: { readonly login: RateLimit };
  /** Failed credentials: after a few, the client id / service / address is refused for a while. */
  readonly failures: {
    readonly clientSecretPerClient: RateLimit;
    readonly clientSecretPerAddress: RateLimit;
    readonly operatorKeyPerAddress: RateLimit;
    readonly legacySignaturePerService: RateLimit;
    readonly legacySignaturePerAddress: RateLimit;
  };
}

export interface TongbanConfig {
  /** `development` or `production`: no default, loadConfig refuses to start until one is chosen (config/rules/mode.ts). */
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
  /**
   * Cryptographic suite: `international` (SHA-256, AES-256-GCM, ES256 audit checkpoints) or `gm`
   * (国密: SM3, SM4, SM2; docs/privacy.md). A store keeps the suite it was first written under.
   */
  readonly crypto?: { readonly suite: 'international' | 'gm' };
  readonly logLevel: LogLevel;
  /**
   * Prometheus metrics (docs/operators.md, "Metrics"), on a listener of their own, never the public
   * port: keep it on loopback or an operations network. `enabled: false` starts no listener.
   */
  readonly metrics: {
    readonly enabled: boolean;
    readonly listen: { readonly host: string; readonly port: number };
    readonly path: string;
  };
  readonly keys: {
    /** A JWKS file with private signing keys. Development generates keys into the store instead. */
    readonly signingKeysFile?: string;
    /** Cookie signing keys (at least one, 32+ characters each in production). */
    readonly cookieKeys?: readonly string[];
    /** Secret for pairwise subjects and provincial user ids (32+ characters in production). */
    readonly subjectSecret?: string;
    /**
     * Data keys that seal personal data at rest, `id:base64url-of-32-bytes`, newest first: the first
     * seals, all open (docs/privacy.md). Required in production; development generates one into the store.
     */
    readonly dataKeys?: readonly string[];
    /**
     * The audit trail's checkpoint signing key, a JSON file (`npm run audit -- new-checkpoint-key`),
     * kept outside the store so that write access to the store cannot re-sign a rewritten trail.
     * Without it (development) the key is generated into the store (docs/privacy.md).
     */
    readonly auditCheckpointKeyFile?: string;
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
  /**
   * Reverse proxies in front of the broker: only requests from these addresses (IPs or CIDR ranges)
   * may set `X-Forwarded-For`/`-Proto`/`-Host`; from any other peer those headers are dropped
   * (docs/security.md, "Transport"). Empty: no proxy is believed.
   */
  readonly proxy?: { readonly trusted: readonly string[] };
  /** Rate limits of every door (docs/security.md). */
  readonly rateLimits: RateLimits;
}

export const defaults: TongbanConfig = {
  mode: 'development',
  issuer: 'http://127.0.0.1:3000',
  listen: { host: '127.0.0.1', port: 3000 },
  proxy: { trusted: [] },
  dataDir: './data',
  store: 'sqlite:./data/tongban.sqlite',
  storeNamespace: 'tongban',
  logLevel: 'info',
  metrics: { enabled: true, listen: { host: '127.0.0.1', port: 9464 }, path: '/metrics' },
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
  // A busy city portal makes a few token requests a second; these sit an order of magnitude above
  // that, while a flood of 100 wrong secrets for one client in a minute is refused after the 10th.
  rateLimits: {
    enabled: true,
    perClient: {
      token: { points: 3000, durationSeconds: 60 },
      introspection: { points: 12_000, durationSeconds: 60 },
      revocation: { points: 3000, durationSeconds: 60 },
      userinfo: { points: 6000, durationSeconds: 60 },
      registration: { points: 60, durationSeconds: 60 },
    },
    perAddress: {
      authorization: { points: 1200, durationSeconds: 60 },
      interactions: { points: 2400, durationSeconds: 60 },
      legacyLogin: { points: 1200, durationSeconds: 60 },
      adminApi: { points: 600, durationSeconds: 60 },
      registration: { points: 30, durationSeconds: 60 },
    },
    perPerson: { login: { points: 30, durationSeconds: 600 } },
    failures: {
      clientSecretPerClient: { points: 10, durationSeconds: 60, blockSeconds: 300 },
      clientSecretPerAddress: { points: 30, durationSeconds: 60, blockSeconds: 300 },
      operatorKeyPerAddress: { points: 10, durationSeconds: 300, blockSeconds: 900 },
      legacySignaturePerService: { points: 10, durationSeconds: 60, blockSeconds: 300 },
      legacySignaturePerAddress: { points: 30, durationSeconds: 60, blockSeconds: 300 },
    },
  },
};

/** Every path the broker serves: a data table of its own (config/routes.ts), re-exported here. */
export { routePath, routes } from './routes.ts';

/**
 * Fixed tunables of the broker: tolerances, cache times and time-outs that are not configuration
 * keys but are read from here, so none is written twice.
 */
export const tunables = {
  /** Clock skew accepted on every JWT the broker or its parts verify and on stored lifetimes, seconds. */
  clockToleranceSeconds: 5,
  /** On stop, open connections get this long to finish before they are closed (ms). */
  shutdownGraceMs: 20_000,
  /** Node HTTP server time-outs (ms): idle keep-alive, request headers, whole request. */
  server: { keepAliveTimeoutMs: 5000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
  /** Bound of oidc-provider's own outbound calls (a client's jwks_uri, sector identifier), ms. */
  providerFetchTimeoutMs: 2500,
  /** Default bound of a guarded outbound exchange, redirects included, ms. */
  outboundTimeoutMs: 5000,
  /** Bound of the store check of `/readyz`, ms. */
  readinessStoreTimeoutMs: 1000,
  /** How long a node trusts its cached copy of an identity record, ms; and how many it keeps. */
  accountCache: { ttlMs: 5000, maxEntries: 10_000 },
  /** How often a node re-checks the resource-server registry for changes, ms. */
  resourceRegistryRefreshMs: 1000,
  /** The national platform's JWKS is not refetched more often than this for an unknown key, ms. */
  nationalJwksCooldownMs: 30_000,
  /** Another node is generating keys: the claim that stops two doing it expires after this, ms. */
  keyGenerationClaimMs: 30_000,
} as const;

/** Environment variables and the key each sets. Lists are comma-separated. */
export const environment: Readonly<Record<string, { readonly key: string; readonly type: 'string' | 'number' | 'list' }>> = {
  TONGBAN_MODE: { key: 'mode', type: 'string' },
  TONGBAN_ISSUER: { key: 'issuer', type: 'string' },
  TONGBAN_HOST: { key: 'listen.host', type: 'string' },
  TONGBAN_PORT: { key: 'listen.port', type: 'number' },
  TONGBAN_PROXY_TRUSTED: { key: 'proxy.trusted', type: 'list' },
  TONGBAN_DATA_DIR: { key: 'dataDir', type: 'string' },
  TONGBAN_STORE: { key: 'store', type: 'string' },
  TONGBAN_STORE_NAMESPACE: { key: 'storeNamespace', type: 'string' },
  TONGBAN_LOG_LEVEL: { key: 'logLevel', type: 'string' },
  TONGBAN_METRICS_HOST: { key: 'metrics.listen.host', type: 'string' },
  TONGBAN_METRICS_PORT: { key: 'metrics.listen.port', type: 'number' },
  TONGBAN_SIGNING_KEYS_FILE: { key: 'keys.signingKeysFile', type: 'string' },
  TONGBAN_COOKIE_KEYS: { key: 'keys.cookieKeys', type: 'list' },
  TONGBAN_SUBJECT_SECRET: { key: 'keys.subjectSecret', type: 'string' },
  TONGBAN_DATA_KEY: { key: 'keys.dataKeys', type: 'list' },
  TONGBAN_AUDIT_CHECKPOINT_KEY_FILE: { key: 'keys.auditCheckpointKeyFile', type: 'string' },
  TONGBAN_CRYPTO_SUITE: { key: 'crypto.suite', type: 'string' },
  TONGBAN_KEYS_REFRESH_SECONDS: { key: 'keys.refreshSeconds', type: 'number' },
  TONGBAN_COOKIE_PREFIX: { key: 'cookiePrefix', type: 'string' },
  TONGBAN_NATIONAL_ISSUER: { key: 'national.issuer', type: 'string' },
  TONGBAN_NATIONAL_CLIENT_ID: { key: 'national.clientId', type: 'string' },
  TONGBAN_NATIONAL_CLIENT_SECRET: { key: 'national.clientSecret', type: 'string' },
  TONGBAN_NATIONAL_TIMEOUT_MS: { key: 'national.timeoutMs', type: 'number' },
  TONGBAN_LOGOUT_GIVE_UP_AFTER_SECONDS: { key: 'logout.giveUpAfterSeconds', type: 'number' },
};
