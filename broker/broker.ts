/**
 * `createBroker(config)`: everything the broker is, wired together, with nothing started at
 * import. Tests start as many brokers as they need.
 */
import type Provider from 'oidc-provider';
import type { AdapterFactory } from 'oidc-provider';
import { routes, tunables, type TongbanConfig } from '../config/defaults.ts';
import { createAccountStore } from './accounts/records.ts';
import { openDataProtection } from './platform/crypto/open.ts';
import { cryptoSuite } from './platform/crypto/suite.ts';
import { storeIdKeyOf } from './platform/crypto/store-id-key.ts';
import { openAuditTrail, type AuditTrail } from './audit/index.ts';
import { resourceAuditOn } from './resources/audit.ts';
import { createFindAccount } from './accounts/find-account.ts';
import { consentRecordTtlSeconds, createConsentRecords } from './release/consent-records.ts';
import { cacheIdentities } from './accounts/cache.ts';
import { createHealth } from './platform/health.ts';
import { markDevelopmentPages } from './platform/pages/layout.ts';
import { securityHeaders } from './platform/http/headers.ts';
import { strictTransport, trustForwardingFrom } from './platform/http/transport.ts';
import { createInteractionRouter } from './login/routes.ts';
import { createLegalPersonRouter } from './login/company-choice.ts';
import { loginLocalesOf } from './login/interaction.ts';
import { errorBoundary } from './platform/http/error-boundary.ts';
import { pagesOnly, programEndpointsOf } from './platform/http/program-endpoints.ts';
import { createHttpListener } from './platform/http/server.ts';
import { choosePresentation } from './platform/i18n/index.ts';
import { loadKeys, watchSigningKeys } from './oidc/keys.ts';
import { createLogger, requestLogging, type Logger } from './platform/log.ts';
import { appCity, createMetrics, createMetricsListener, installProviderMetrics, meterNational, meterStore, provinceLabel, type Metrics } from './platform/metrics/index.ts';
import { createNationalPlatform, type NationalPlatform } from './national/upstream.ts';
import { createProvider } from './oidc/provider.ts';
import { createClaimsRelease } from './release/oidc.ts';
import { brokerPathTable, installClientLimits, legacyServiceGuard, rateLimitMiddleware } from './platform/rate-limit/index.ts';
import { openRateLimits } from './platform/rate-limit/open.ts';
import { secretKeyOf } from './platform/crypto/client-secrets.ts';
import { guardStore } from './platform/storage/guard.ts';
import { createStore } from './platform/storage/index.ts';
import type { Store } from './platform/storage/types.ts';
import { createDerive } from './identity/subjects.ts';
import { createLegacyBridge, legacyBridgeClients, legacyServiceOf, type LegacyBridge } from './legacy/index.ts';
import { createSingleLogout, type SingleLogout } from './logout/index.ts';
import { logoutQueueDepthOf } from './logout/queue-depth.ts';
import { createAccountPage } from './accounts/page.ts';
import { createReleaseLog } from './release/release-log.ts';
import { publishedKeys } from './oidc/key-ring.ts';
import { createResourceServers, type ResourceServerRecords } from './resources/index.ts';
import { createLegalPersons, type LegalPersons } from './legal-person/index.ts';
import { createMemberRegistry, isClientActive, type MemberRegistry } from './members/index.ts';
import { createOidcAdapterFactory } from './oidc/adapter.ts';
import { installProviderExtensions } from './oidc/extensions.ts';
import { logProviderErrors } from './oidc/error-events.ts';
import { seedCities } from '../config/cities.ts';
import { createLicenceLibraryClient, createLicenceRelay } from './licences/index.ts';
import { createDashboard, createLoginCounts } from './dashboard/index.ts';

/** Longest wait for in-flight requests on stop; below the usual 30 s an orchestrator allows. */
const { shutdownGraceMs } = tunables;

export interface BrokerOptions {
  readonly logger?: Logger;
  /** An already-open store (tests share one between brokers). The broker does not close it. */
  readonly store?: Store;
  /** Replace the national platform client (never in production). */
  readonly national?: NationalPlatform;
}

export interface Broker {
  readonly config: TongbanConfig;
  readonly provider: Provider;
  readonly store: Store;
  readonly logger: Logger;
  /** The legacy ticket bridges: their registry, and revocation for single logout (docs/legacy.md). */
  readonly legacy: LegacyBridge;
  /** Single logout: its delivery queue (pending and given-up deliveries) and session records (docs/sso-logout.md). */
  readonly singleLogout: SingleLogout;
  /** Prometheus metrics of this broker; `rateLimited(limit)` for the rate limits (docs/operators.md). */
  readonly metrics: Metrics;
  /** The scrape URL of the metrics listener while started with `metrics.enabled`. */
  metricsUrl(): string | undefined;
  /** The resource servers (APIs) and their token-exchange routes (docs/relying-services.md). */
  readonly resources: ResourceServerRecords;
  /** Legal-person logins; `checkActing` for the legacy bridges (docs/legal-persons.md). */
  readonly legalPersons: LegalPersons;
  /** Member cities, their apps and the operators (docs/operators.md). */
  readonly registry: MemberRegistry;
  /** The one hash-chained audit trail (broker/audit, docs/privacy.md). */
  readonly audit: AuditTrail;
  /** oidc-provider's storage adapter, keyed like the broker's (tools writing oidc records use it). */
  readonly oidcAdapter: AdapterFactory;
  /** Listens on config.listen (port 0 picks a free one); resolves with the bound URL. */
  start(): Promise<string>;
  /**
   * Stops accepting, answers /readyz with 503, lets in-flight requests finish (for at most
   * `shutdownGraceMs`), then closes the store if the broker opened it.
   */
  stop(): Promise<void>;
  /** Re-reads the signing key ring now (nodes also do it every keys.refreshSeconds). */
  refreshKeys(): Promise<boolean>;
  /** The request handler, for mounting in another server. */
  callback(): ReturnType<Provider['callback']>;
}

export async function createBroker(config: TongbanConfig, options: BrokerOptions = {}): Promise<Broker> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, base: { service: 'tongban' } });
  if (config.mode === 'development') {
    logger.warn('development_mode', {
      message: 'DEVELOPMENT MODE: generated keys in the store, http loopback URLs allowed. Never expose this broker.',
    });
  }
  const ownsStore = !options.store;
  const rawStore = options.store ?? (await createStore(config.store, { logger, namespace: config.storeNamespace }));
  const metrics = createMetrics();
  const store = guardStore(meterStore(rawStore, metrics), logger);
  // Rate limits count in the same backend as the store, so a limit holds across every node.
  const { rateLimits, close: closeRateLimits } = await openRateLimits({
    storeUrl: rawStore.kind === 'memory' ? 'memory:' : config.store, namespace: config.storeNamespace, settings: config.rateLimits, logger, onRefused: (limit) => metrics.rateLimited(limit),
  });
  const keys = await loadKeys(config, store, logger);
  const derive = createDerive(keys.subjectSecret, undefined, config.crypto?.suite === 'gm' ? 'sm3' : 'sha256');
  // Refuses a store written under the other suite; a wrong or missing data key stops start-up here.
  const cryptoSuiteName = config.crypto?.suite ?? 'international';
  const { sealer, storedDataKeys } = await openDataProtection({ mode: config.mode, suite: cryptoSuiteName, configured: config.keys.dataKeys, store, logger });
  const accounts = cacheIdentities(createAccountStore(store, sealer, logger));
  const release = createClaimsRelease(derive);
  // The one tamper-evident audit trail: admin changes and releases of sensitive items (docs/privacy.md).
  const { trail: audit } = await openAuditTrail(config, store);
  // Who received what, for /account; each release of a sensitive item also goes to the audit trail.
  // The answers on sensitive items per app, kept across sessions (one year, release/consent-records.ts).
  const consents = createConsentRecords({ store, ttlSeconds: Math.max(consentRecordTtlSeconds, config.ttl.grant) });
  const releases = createReleaseLog({ store, ttlSeconds: config.ttl.session, audit, consents });
  const national = meterNational(options.national ?? createNationalPlatform({
    issuer: config.national.issuer,
    clientId: config.national.clientId,
    clientSecret: config.national.clientSecret,
    redirectUri: new URL(routes.nationalCallback, config.issuer).href,
    timeoutMs: config.national.timeoutMs,
    logger,
  }), metrics);
  const legalPersons = createLegalPersons({
    store, sealer, national, derive, logger,
    sessionTtlSeconds: config.ttl.session,
    interactionTtlSeconds: config.ttl.interaction,
    grantTtlSeconds: config.ttl.grant,
  });
  // Member cities and their apps live in the store; the reference cities are added on first start.
  // Generated client, service and operator secrets are stored as HMACs under a key of the deployment secret.
  const secretKey = secretKeyOf(keys.subjectSecret);
  // Tokens and codes are stored under a keyed hash of their value, keyed from the deployment secret.
  const oidcAdapter = createOidcAdapterFactory(store, {
    idKey: storeIdKeyOf(keys.subjectSecret), suite: cryptoSuite(cryptoSuiteName), clockToleranceSeconds: tunables.clockToleranceSeconds,
    grantTokenLifetimeSeconds: Math.max(config.ttl.authorizationCode, config.ttl.accessToken, config.ttl.refreshToken),
  });
  const registry = createMemberRegistry({
    store, mode: config.mode, issuer: config.issuer, configuredClients: config.clients, secretKey, audit, oidcAdapter,
  });
  await registry.seed(seedCities);
  const resources = createResourceServers({
    store, logger, derive, issuer: config.issuer, secretKey, audit: resourceAuditOn(audit),
    // The signing keys rotate at run time: the key watch below knows the current ones.
    signingKeys: () => publishedKeys(keyWatch.ring),
    isClientActive: isClientActive(registry),
    isClientIdTaken: async (clientId) => registry.configuredClientIds.has(clientId) || (await registry.records.app(clientId)) !== undefined,
  });
  const provider = createProvider({ config: { ...config, clients: [...config.clients, ...legacyBridgeClients(config, derive)] }, keys, adapter: oidcAdapter, release, findAccount: createFindAccount({ accounts, release, legalPersons, releases }), resources, legalPersons, registry, consents });
  // The broker's pages and routers step aside on oidc-provider's endpoints for programs.
  const programEndpoints = programEndpointsOf(provider);
  const forPages = <M extends Parameters<typeof pagesOnly>[1]>(middleware: M): M => pagesOnly(programEndpoints, middleware);
  // First, so that every page below it, oidc-provider's included, may not be framed.
  provider.use(securityHeaders);
  // Development mode says so on every page (config/rules/mode.ts: never a default).
  if (config.mode === 'development') provider.use(forPages(markDevelopmentPages));
  // Before anything reads ctx.ip or ctx.protocol: forwarding headers only from trusted proxies; HSTS on https.
  provider.use(trustForwardingFrom(config.proxy?.trusted ?? []));
  provider.use(strictTransport(config.issuer));
  // Next, so that every line logged for a request carries its id, and every route sees the metrics.
  provider.use(requestLogging(logger));
  // Then the page language and display mode (ui_locales, the switch's cookies, Accept-Language).
  provider.use(choosePresentation({
    cookiePrefix: config.cookiePrefix, switchPath: routes.preferences, fallbackPath: routes.account, development: config.mode === 'development',
    // The interaction is read once per request: the login routes take it from this read.
    interactionLocales: loginLocalesOf(provider),
  }));
  installProviderMetrics(provider, metrics);
  // Before every door (the admin API and legacy routes included): over a limit, nothing else runs.
  provider.use(rateLimitMiddleware(rateLimits, brokerPathTable({
    authorization: provider.pathFor('authorization'), registration: provider.pathFor('registration'),
    token: provider.pathFor('token'), introspection: provider.pathFor('introspection'), revocation: provider.pathFor('revocation'),
  })));
  provider.use(legacyServiceGuard(rateLimits, legacyServiceOf));
  // The operator dashboard at /admin, before the admin JSON API answers the rest of /admin/...;
  // its charts count logins in the shared store (flushed from each node every few seconds), so every node contributes.
  const loginCounts = createLoginCounts(store, {
    onFlushError: (error: unknown) => logger.warn('dashboard_count_failed', { reason: (error as Error)?.name }),
  });
  metrics.observeLogins((login) => loginCounts.record(login));
  provider.use(forPages(createDashboard({
    registry, store, logins: loginCounts, logger, issuer: config.issuer, cookiePrefix: config.cookiePrefix,
    logoutQueue: () => logoutQueueDepth(),
    // The chain as a whole (broker/audit): each dashboard page shows whether it still verifies.
    verifyAudit: async () => (await audit.verify()).ok,
  })));
  // Members, then resources: the list and its order are in oidc/extensions.ts.
  installProviderExtensions(provider, { members: registry, resources, logger });
  // Last wrapper of the client lookup and secret check, so it runs first: refused before any hashing.
  installClientLimits(provider, rateLimits);
  await resources.records.applyConfigured(config.resources ?? [], { allowLoopbackHttp: config.mode === 'development' });
  // Forwarding headers are believed only from `proxy.trusted` (platform/http/transport.ts strips them otherwise).
  provider.proxy = true;
  // A store that lost the signing keys lost the data keys too: both are written back, data keys first.
  const keyWatch = watchSigningKeys({
    provider, logger, intervalMs: config.keys.refreshSeconds * 1000,
    keys: {
      ...keys,
      restore: async (ring) => {
        await storedDataKeys?.restore();
        return keys.restore(ring);
      },
    },
  });
  const health = createHealth({
    store, storeTimeoutMs: tunables.readinessStoreTimeoutMs, paths: { liveness: routes.healthz, readiness: routes.readyz }, mode: config.mode,
  });

  const router = createInteractionRouter({
    provider,
    national,
    store,
    accounts,
    derive,
    logger,
    issuer: config.issuer,
    sessionTtlSeconds: config.ttl.session,
    interactionTtlSeconds: config.ttl.interaction,
    legalPersons,
    rateLimits,
    cookiePrefix: config.cookiePrefix,
    cityName: async (code) => (await registry.records.city(code))?.name,
    consents,
  });
  provider.use(errorBoundary(logger));
  provider.use(forPages(health.middleware));
  provider.use(forPages(router.routes()));
  provider.use(forPages(router.allowedMethods()));
  provider.use(forPages(createLegalPersonRouter({ provider, legalPersons, logger }).routes()));
  const legacy = createLegacyBridge({ provider, store, sealer, audit, accounts, derive, logger, config, companies: legalPersons, releases });
  provider.use(forPages(legacy.routes()));
  const singleLogout = createSingleLogout({
    provider, store, national, accounts, derive, logger,
    onDeliveryOutcome: (outcome, delivery) => {
      void appCity(provider, delivery.clientId).then((city) => (outcome === 'delivered' ? metrics.logoutDelivered : metrics.logoutGivenUp)(provinceLabel(city)));
    },
    issuer: config.issuer,
    mode: config.mode,
    cookiePrefix: config.cookiePrefix,
    nationalIssuer: config.national.issuer,
    nationalClientId: config.national.clientId,
    nationalTimeoutMs: config.national.timeoutMs,
    sessionTtlSeconds: config.ttl.session,
    interactionTtlSeconds: config.ttl.interaction,
    settings: config.logout,
    onSessionEnded: async (ended) => {
      await legacy.revokeForSession(ended.sessionUid);
      await legalPersons.forgetSession(ended.sessionUid);
    },
  });
  // Its middleware acts after oidc-provider's resume and end-session routes only.
  provider.use(forPages(singleLogout.middleware));
  provider.use(forPages(singleLogout.router.routes()));
  provider.use(forPages(createAccountPage({ provider, logger, releases, consents }).routes()));
  // Electronic licences: fetched from the national library at each request, kept nowhere (docs/licences.md).
  provider.use(forPages(createLicenceRelay({
    provider, legalPersons, logger, path: routes.licences, audit, releases,
    library: createLicenceLibraryClient({ libraryUrl: new URL('/licence-library', config.national.issuer).href, timeoutMs: config.national.timeoutMs }),
    subjectOf: async (accountId, clientId) => {
      const client = await provider.Client.find(clientId);
      return client ? release.subjectFor(accountId, client) : undefined;
    },
  }).routes()));
  // Back-channel logout deliveries queued in the store, by any node, are sent from here.
  singleLogout.start();
  const logoutQueueDepth = logoutQueueDepthOf(provider, singleLogout.queue);
  metrics.watchLogoutQueue(logoutQueueDepth);
  const metricsListener = config.metrics.enabled
    ? createMetricsListener({ ...config.metrics.listen, path: config.metrics.path, metrics, logger })
    : undefined;
  let metricsUrl: string | undefined;

  logProviderErrors(provider, logger);
  const http = createHttpListener(() => provider.callback(), tunables.server);
  return {
    config,
    provider,
    store,
    logger,
    legacy,
    singleLogout,
    metrics,
    metricsUrl: () => metricsUrl,
    resources: resources.records,
    legalPersons,
    registry,
    audit,
    oidcAdapter,
    callback: () => provider.callback(),
    refreshKeys: () => keyWatch.refresh(),
    async start() {
      const port = await http.listen(config.listen.host, config.listen.port);
      logger.info('broker_listening', { issuer: config.issuer, port });
      if (metricsListener) {
        // A metrics port already taken stops the start: operators must not lose their metrics unnoticed.
        metricsUrl = await metricsListener.start().catch(async (error: unknown) => {
          await http.close();
          throw error;
        });
      }
      return `http://${config.listen.host}:${port}`;
    },
    async stop() {
      // While stopping, a keep-alive connection closes after its response instead of idling.
      http.drain();
      keyWatch.stop();
      await singleLogout.stop();
      health.drain();
      await http.close(shutdownGraceMs);
      await metricsListener?.stop();
      metricsUrl = undefined;
      await closeRateLimits();
      // This node's login counts not yet in the store, while the store is still open.
      await loginCounts.close();
      if (ownsStore) await rawStore.close();
    },
  };
}
