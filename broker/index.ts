/**
 * `createBroker(config)`: everything the broker is, wired together, with nothing started at
 * import. Tests start as many brokers as they need.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import type { TongbanConfig } from '../config/defaults.ts';
import { createAccountStore } from './accounts.ts';
import { createFindAccount } from './accounts.ts';
import { createInteractionRouter, errorBoundary } from './interactions.ts';
import { loadKeys } from './keys.ts';
import { createLogger, type Logger } from './log.ts';
import { createNationalPlatform, type NationalPlatform } from './national/upstream.ts';
import { createProvider } from './provider.ts';
import { createClaimsRelease } from './release.ts';
import { guardStore } from './storage/guard.ts';
import { createStore } from './storage/index.ts';
import type { Store } from './storage/types.ts';
import { createDerive } from './subjects.ts';

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
  /** Listens on config.listen (port 0 picks a free one); resolves with the bound URL. */
  start(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, closes the store if the broker opened it. */
  stop(): Promise<void>;
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
  const rawStore = options.store ?? (await createStore(config.store, { logger }));
  const store = guardStore(rawStore, logger);
  const keys = await loadKeys(config, store, logger);
  const derive = createDerive(keys.subjectSecret);
  const accounts = createAccountStore(store);
  const release = createClaimsRelease(derive);
  const provider = createProvider({ config, keys, store, release, findAccount: createFindAccount({ accounts, release, derive }) });
  provider.proxy = config.mode === 'production';

  const national = options.national ?? createNationalPlatform({
    issuer: config.national.issuer,
    clientId: config.national.clientId,
    clientSecret: config.national.clientSecret,
    redirectUri: new URL('/national/callback', config.issuer).href,
    timeoutMs: config.national.timeoutMs,
    logger,
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
  });
  provider.use(errorBoundary(logger));
  provider.use(router.routes());
  provider.use(router.allowedMethods());

  provider.on('server_error', (_ctx, error: Error) => {
    logger.error('provider_server_error', { code: 'server_error', reason: error.name });
  });
  provider.on('grant.error', (_ctx, error: Error & { error?: string }) => {
    logger.info('token_request_refused', { code: error.error ?? error.name });
  });

  let server: Server | undefined;
  return {
    config,
    provider,
    store,
    logger,
    callback: () => provider.callback(),
    async start() {
      server = createServer(provider.callback());
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
      if (server) {
        const s = server;
        server = undefined;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        });
      }
      if (ownsStore) await rawStore.close();
    },
  };
}
