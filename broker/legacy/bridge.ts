/**
 * The legacy ticket bridges, wired together: the registry of systems, the tickets and tokens, the
 * login through the broker, and every province protocol the adapter registry lists. `createBroker`
 * mounts the routes; the bridge clients are added to the provider's clients before it is built.
 * docs/legacy.md documents the APIs.
 *
 * @example
 * const provider = createProvider({ config: { ...config, clients: [...config.clients, ...legacyBridgeClients(config, derive)] }, ... });
 * const legacy = createLegacyBridge({ provider, store, sealer, accounts, derive, logger, config });
 * provider.use(legacy.routes());
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { TongbanConfig } from '../../config/defaults.ts';
import type { AccountStore } from '../accounts/records.ts';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { Derive } from '../identity/subjects.ts';
import type { LegacyCompanies } from './companies.ts';
import { createLegacyCredentials, revokeLegacyTokensForAccount, revokeLegacyTokensForSession } from './credentials.ts';
import { bridgeClientId, createLegacyLogin } from './login.ts';
import { mountLegacyProtocols } from './provinces.ts';
import { createLegacyRegistry, type LegacyRegistry } from './registry.ts';
import type { Sealer } from '../platform/crypto/sealing.ts';
import type { AuditTrail } from '../audit/trail.ts';
import { createLegacyRelease } from '../release/legacy.ts';
import type { ReleaseLog } from '../release/release-log.ts';

export interface LegacyBridgeOptions {
  readonly provider: Provider;
  readonly store: Store;
  readonly accounts: AccountStore;
  readonly derive: Derive;
  readonly logger: Logger;
  readonly config: TongbanConfig;
  /** Seals the stored service passwords. */
  readonly sealer: Sealer;
  /** The broker's audit trail: registrations and removals of systems are admin entries. */
  readonly audit?: AuditTrail;
  /** Company logins (broker.legalPersons): without it, systems with `legal_person` issue no ticket. */
  readonly companies?: LegacyCompanies;
  /** Who received what: each release to a system is noted like an OIDC one (release/release-log.ts). */
  readonly releases?: ReleaseLog;
  /** Epoch milliseconds (tests). */
  readonly now?: () => number;
}

export interface LegacyBridge {
  readonly registry: LegacyRegistry;
  /** The legacy routes, as koa middleware for `provider.use`. */
  routes(): Middleware;
  /** Ends every legacy ticket and token of a broker account; how many were alive. */
  revokeForAccount(accountId: string): Promise<number>;
  /** Ends every legacy ticket and token issued from a broker session (its uid). */
  revokeForSession(sessionUid: string): Promise<number>;
}

export function createLegacyBridge(options: LegacyBridgeOptions): LegacyBridge {
  const { provider, store, accounts, derive, logger, config } = options;
  const now = options.now ?? Date.now;
  const registry = createLegacyRegistry({ store, sealer: options.sealer, ...(options.audit ? { audit: options.audit } : {}), configured: config.legacySystems ?? [], mode: config.mode });
  const credentials = createLegacyCredentials(store, {
    ticketTtlSeconds: config.ttl.legacyTicket,
    tokenTtlSeconds: config.ttl.legacyToken,
    now,
  });
  const login = createLegacyLogin({
    provider,
    store,
    logger,
    issuer: config.issuer,
    cookiePrefix: config.cookiePrefix,
    interactionTtlSeconds: config.ttl.interaction,
    registry,
    credentials,
    ...(options.companies ? { companies: options.companies } : {}),
  });
  const services = {
    store, registry, credentials, release: createLegacyRelease(provider, accounts, derive, {
      ...(options.releases ? { releases: options.releases } : {}), consentClientOf: bridgeClientId,
    }), login, logger, now,
    ...(options.companies ? { companies: options.companies } : {}),
  };
  const router = new Router();
  login.mount(router);
  mountLegacyProtocols(router, services);
  return {
    registry,
    routes: () => router.routes() as unknown as Middleware,
    revokeForAccount: (accountId) => revokeLegacyTokensForAccount(store, accountId),
    revokeForSession: (sessionUid) => revokeLegacyTokensForSession(store, sessionUid),
  };
}
