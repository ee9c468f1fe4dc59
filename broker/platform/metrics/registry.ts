/**
 * The broker's Prometheus metrics, one Registry per broker (tests start many brokers in one
 * process, so nothing goes to prom-client's global registry). Labels carry codes only: division
 * codes of provinces and cities, app and endpoint ids, error codes; never a person, never a secret.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { provinceOf } from '../../identity/identifiers.ts';

/** What a label may hold when the value is not known (e.g. a client without a city). */
export const unknownLabel = 'unknown';

/** Where a label value comes from outside: anything but a short code becomes `unknown`. */
export function labelValue(value: string | undefined): string {
  return value && /^[A-Za-z0-9._:-]{1,64}$/.test(value) ? value : unknownLabel;
}

export interface LoginOutcome {
  /** The member city of the app (six-digit division code), when the app has one. */
  readonly city?: string;
  /** `success`, or the error code the login ended with. */
  readonly outcome: string;
  /** From the start of the authorization request to its answer, when known. */
  readonly seconds?: number;
}

/** The back-channel logout deliveries waiting, by destination province: how many, and the oldest one's age. */
export type LogoutQueueDepth = () => Promise<Record<string, { readonly waiting: number; readonly oldestSeconds: number }>>;

export interface Metrics {
  readonly registry: Registry;
  /** `text/plain; version=0.0.4` exposition of every metric. */
  scrape(): Promise<{ contentType: string; body: string }>;
  login(login: LoginOutcome): void;
  /** Also hands every login to `listener` (the dashboard's counts in the shared store). */
  observeLogins(listener: (login: LoginOutcome) => void): void;
  /** One call to the national platform: `endpoint` as named by the connector, `error` its code on failure. */
  nationalCall(endpoint: string, seconds: number, error?: string): void;
  /** A token issued, by kind (access_token, authorization_code, refresh_token, ...). */
  tokenIssued(kind: string): void;
  introspection(active: boolean): void;
  /** A request refused by a rate limit, named by the limit. */
  rateLimited(limit: string): void;
  logoutDelivered(province: string | undefined): void;
  logoutGivenUp(province: string | undefined): void;
  /** Read at each scrape; the single-logout queue sets it. */
  watchLogoutQueue(depth: LogoutQueueDepth): void;
  /** One call to a legacy ticket API: its province, method and result (`ok` or the failure). */
  legacyValidation(province: string, method: string | undefined, result: string): void;
  storeOperation(method: string, seconds: number, failed: boolean): void;
}

/** The province of a city code, or `unknown`. */
export function provinceLabel(city: string | undefined): string {
  return city && /^\d{6}$/.test(city) ? provinceOf(city) : unknownLabel;
}

/** Label sets by value, made on first use; values come from fixed lists (token kinds, store methods), so few. */
function labelSets<L extends Record<string, string>>(make: (value: string) => L): (value: string) => Readonly<L> {
  const made = new Map<string, L>();
  return (value) => {
    let labels = made.get(value);
    if (!labels) {
      labels = make(value);
      if (made.size < 256) made.set(value, labels);
    }
    return labels;
  };
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const loginBuckets = [1, 2, 5, 10, 20, 30, 60, 120, 300];

export function createMetrics(): Metrics {
  const registry = new Registry();
  const loginListeners: Array<(login: LoginOutcome) => void> = [];
  collectDefaultMetrics({ register: registry, prefix: 'tongban_' });
  const logins = new Counter({
    name: 'tongban_logins_total', help: 'Logins answered to apps, by province and city of the app and outcome (success or error code).',
    labelNames: ['province', 'city', 'outcome'], registers: [registry],
  });
  const loginSeconds = new Histogram({
    name: 'tongban_login_duration_seconds', help: 'From the authorization request to its answer, for logins that went through a login interaction.',
    labelNames: ['province', 'outcome'], buckets: loginBuckets, registers: [registry],
  });
  const nationalCalls = new Counter({
    name: 'tongban_national_calls_total', help: 'Calls to the national platform, by endpoint and outcome (ok or error code).',
    labelNames: ['endpoint', 'outcome'], registers: [registry],
  });
  const nationalSeconds = new Histogram({
    name: 'tongban_national_call_duration_seconds', help: 'Latency of calls to the national platform, by endpoint.',
    labelNames: ['endpoint'], buckets: latencyBuckets, registers: [registry],
  });
  const tokens = new Counter({
    name: 'tongban_tokens_issued_total', help: 'Tokens and grants issued, by kind.', labelNames: ['kind'], registers: [registry],
  });
  const introspections = new Counter({
    name: 'tongban_introspections_total', help: 'Token introspections answered, by whether the token was active.', labelNames: ['active'], registers: [registry],
  });
  const rateLimits = new Counter({
    name: 'tongban_rate_limited_total', help: 'Requests refused by a rate limit, by limit.', labelNames: ['limit'], registers: [registry],
  });
  const logoutDelivered = new Counter({
    name: 'tongban_backchannel_logout_delivered_total', help: 'Back-channel logout tokens delivered, by destination province.', labelNames: ['province'], registers: [registry],
  });
  const logoutGivenUp = new Counter({
    name: 'tongban_backchannel_logout_given_up_total', help: 'Back-channel logout deliveries given up after retrying, by destination province.', labelNames: ['province'], registers: [registry],
  });
  let queueDepth: LogoutQueueDepth | undefined;
  // Both gauges are read from the store at each scrape; one read serves both.
  let reading: Promise<Record<string, { waiting: number; oldestSeconds: number }>> | undefined;
  const readQueue = () => {
    reading ??= (queueDepth ? queueDepth() : Promise.resolve({})).finally(() => setImmediate(() => { reading = undefined; }));
    return reading;
  };
  new Gauge({
    name: 'tongban_backchannel_logout_queue_depth', help: 'Back-channel logout deliveries waiting in the shared store, by destination province.',
    labelNames: ['province'], registers: [registry],
    async collect() {
      const queue = await readQueue();
      this.reset();
      for (const [province, { waiting }] of Object.entries(queue)) this.set({ province: labelValue(province) }, waiting);
    },
  });
  new Gauge({
    name: 'tongban_backchannel_logout_oldest_age_seconds', help: 'Age of the oldest back-channel logout delivery still waiting, by destination province.',
    labelNames: ['province'], registers: [registry],
    async collect() {
      const queue = await readQueue();
      this.reset();
      for (const [province, { oldestSeconds }] of Object.entries(queue)) this.set({ province: labelValue(province) }, oldestSeconds);
    },
  });
  const legacy = new Counter({
    name: 'tongban_legacy_ticket_validations_total', help: 'Calls to the provinces\' legacy ticket APIs, by province, method and result.',
    labelNames: ['province', 'method', 'result'], registers: [registry],
  });
  const storeSeconds = new Histogram({
    name: 'tongban_store_operation_duration_seconds', help: 'Latency of shared-store operations, by method.', labelNames: ['method'], buckets: latencyBuckets, registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'tongban_store_errors_total', help: 'Shared-store operations that failed, by method.', labelNames: ['method'], registers: [registry],
  });

  // Label sets of the per-request counters, made once per value: prom-client checks and hashes
  // the object it is given at every call, and these are counted several times per request.
  const tokenLabels = labelSets((kind) => ({ kind: labelValue(kind) }));
  const storeLabels = labelSets((method) => ({ method }));
  const introspectionLabels = { true: { active: 'true' }, false: { active: 'false' } };

  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    login({ city, outcome, seconds }) {
      for (const listener of loginListeners) listener({ city, outcome, ...(seconds !== undefined ? { seconds } : {}) });
      const province = provinceLabel(city);
      const labels = { province, city: city && /^\d{6}$/.test(city) ? city : unknownLabel, outcome: labelValue(outcome) };
      logins.inc(labels);
      if (seconds !== undefined && seconds >= 0) loginSeconds.observe({ province, outcome: labels.outcome }, seconds);
    },
    observeLogins(listener) {
      loginListeners.push(listener);
    },
    nationalCall(endpoint, seconds, error) {
      nationalCalls.inc({ endpoint: labelValue(endpoint), outcome: error === undefined ? 'ok' : labelValue(error) });
      nationalSeconds.observe({ endpoint: labelValue(endpoint) }, seconds);
    },
    tokenIssued: (kind) => tokens.inc(tokenLabels(kind)),
    introspection: (active) => introspections.inc(introspectionLabels[active ? 'true' : 'false']),
    rateLimited: (limit) => rateLimits.inc({ limit: labelValue(limit) }),
    logoutDelivered: (province) => logoutDelivered.inc({ province: labelValue(province) }),
    logoutGivenUp: (province) => logoutGivenUp.inc({ province: labelValue(province) }),
    watchLogoutQueue(depth) {
      queueDepth = depth;
    },
    legacyValidation: (province, method, result) => legacy.inc({ province: labelValue(province), method: labelValue(method), result: labelValue(result) }),
    storeOperation(method, seconds, failed) {
      const labels = storeLabels(method);
      storeSeconds.observe(labels, seconds);
      if (failed) storeErrors.inc(labels);
    },
  };
}
