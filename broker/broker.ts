/**
 * `createBroker(config)`: everything the broker is, wired together, with nothing started at
 * import. Tests start as many brokers as they need.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { TongbanConfig } from '../config/defaults.ts';
import { createAccountStore, createFindAccount } from './accounts/records.ts';
import { cacheIdentities } from './accounts/cache.ts';
import { createHealth } from './platform/health.ts';
import { securityHeaders } from './platform/http/headers.ts';
import { createInteractionRouter, errorBoundary } from './login/interactions.ts';
import { loadKeys, watchSigningKeys } from './oidc/keys.ts';
import { createLogger, type Logger } from './platform/log.ts';
import { createNationalPlatform, type NationalPlatform } from './national/upstream.ts';
import { createProvider } from './oidc/provider.ts';
import { createClaimsRelease } from './release/oidc.ts';
import { guardStore } from './platform/storage/guard.ts';
import { createStore } from './platform/storage/index.ts';
import type { Store } from './platform/storage/types.ts';
import { createDerive } from './identity/subjects.ts';
import { createLegacyBridge, legacyBridgeClients, type LegacyBridge } from './legacy/index.ts';
import { createSingleLogout, type SingleLogout } from './logout/index.ts';
import { createAccountPage } from './accounts/page.ts';
import { publishedKeys } from './oidc/key-ring.ts';
import { createResourceServers, type ResourceRegistry } from './resources/index.ts';
import { createLegalPersonRouter, createLegalPersons, type LegalPersons } from './legal-person/index.ts';
import { createRegistryService, installRegistry, isClientActive, type RegistryService } from './members/index.ts';
import { seedCities } from '../config/cities.ts';

/** Longest wait for in-flight requests on stop; below the usual 30 s an orchestrator allows. */
const shutdownGraceMs = 20_000;

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
  /** The resource servers (APIs) and their token-exchange routes (docs/relying-services.md). */
  readonly resources: ResourceRegistry;
  /** Legal-person logins; `checkActing` for the legacy bridges (docs/legal-persons.md). */
  readonly legalPersons: LegalPersons;
  /** Member cities, their apps and the operators (docs/operators.md). */
  readonly registry: RegistryService;
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
  const store = guardStore(rawStore, logger);
  const keys = await loadKeys(config, store, logger);
  const derive = createDerive(keys.subjectSecret);
  const accounts = cacheIdentities(createAccountStore(store));
  const release = createClaimsRelease(derive);
  const national = options.national ?? createNationalPlatform({
    issuer: config.national.issuer,
    clientId: config.national.clientId,
    clientSecret: config.national.clientSecret,
    redirectUri: new URL('/national/callback', config.issuer).href,
    timeoutMs: config.national.timeoutMs,
    logger,
  });
  const legalPersons = createLegalPersons({
    store, national, derive, logger,
    sessionTtlSeconds: config.ttl.session,
    interactionTtlSeconds: config.ttl.interaction,
    grantTtlSeconds: config.ttl.grant,
  });
  // Member cities and their apps live in the store; the reference cities are added on first start.
  const registry = createRegistryService({ store, mode: config.mode, issuer: config.issuer, configuredClients: config.clients });
  await registry.seed(seedCities);
  const resources = createResourceServers({
    store, logger, derive, issuer: config.issuer,
    // The signing keys rotate at run time: the key watch below knows the current ones.
    signingKeys: () => publishedKeys(keyWatch.ring),
    isClientActive: isClientActive(registry),
    isClientIdTaken: async (clientId) => registry.configuredClientIds.has(clientId) || (await registry.registry.app(clientId)) !== undefined,
  });
  const provider = createProvider({ config: { ...config, clients: [...config.clients, ...legacyBridgeClients(config, derive)] }, keys, store, release, findAccount: createFindAccount({ accounts, release, legalPersons }), resources, legalPersons, registry });
  // First, so that every page below it, oidc-provider's included, may not be framed.
  provider.use(securityHeaders);
  installRegistry(provider, { service: registry, logger });
  // After the registry: the services' secret check wraps the apps' one.
  resources.install(provider);
  await resources.registry.applyConfigured(config.resources ?? [], { allowLoopbackHttp: config.mode === 'development' });
  provider.proxy = config.mode === 'production';
  const keyWatch = watchSigningKeys({ provider, keys, logger, intervalMs: config.keys.refreshSeconds * 1000 });
  const health = createHealth({ store });

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
  });
  provider.use(errorBoundary(logger));
  provider.use(health.middleware);
  provider.use(router.routes());
  provider.use(router.allowedMethods());
  provider.use(createLegalPersonRouter({ provider, legalPersons, logger }).routes());
  const legacy = createLegacyBridge({ provider, store, accounts, derive, logger, config });
  provider.use(legacy.routes());
  const singleLogout = createSingleLogout({
    provider, store, national, accounts, derive, logger,
    issuer: config.issuer,
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
  provider.use(singleLogout.middleware);
  provider.use(singleLogout.router.routes());
  provider.use(createAccountPage({ provider, logger }).routes());
  // Back-channel logout deliveries queued in the store, by any node, are sent from here.
  singleLogout.start();

  provider.on('server_error', (_ctx, error: Error) => {
    logger.error('provider_server_error', { code: 'server_error', reason: error.name });
  });
  provider.on('grant.error', (_ctx, error: Error & { error?: string }) => {
    logger.info('token_request_refused', { code: error.error ?? error.name });
  });

  let server: Server | undefined;
  let stopping = false;
  return {
    config,
    provider,
    store,
    logger,
    legacy,
    singleLogout,
    resources: resources.registry,
    legalPersons,
    registry,
    callback: () => provider.callback(),
    refreshKeys: () => keyWatch.refresh(),
    async start() {
      const handle = provider.callback();
      server = createServer((req, res) => {
        // While stopping, a keep-alive connection closes after its response instead of idling.
        if (stopping) res.setHeader('connection', 'close');
        void handle(req, res);
      });
      server.keepAliveTimeout = 5000;
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.listen.port, config.listen.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      logger.info('broker_listening', { issuer: config.issuer, port });
      return `http://${config.listen.host}:${port}`;
    },
    async stop() {
      stopping = true;
      keyWatch.stop();
      await singleLogout.stop();
      health.drain();
      if (server) {
        const s = server;
        server = undefined;
        await new Promise<void>((resolve) => {
          // Requests still running after the grace period are cut: the process must end.
          const deadline = setTimeout(() => s.closeAllConnections(), shutdownGraceMs);
          deadline.unref();
          // Keep-alive connections close as soon as they are idle: now, or once their response is out.
          const idle = setInterval(() => s.closeIdleConnections(), 100);
          s.close(() => {
            clearTimeout(deadline);
            clearInterval(idle);
            resolve();
          });
          s.closeIdleConnections();
        });
      }
      if (ownsStore) await rawStore.close();
    },
  };
}
