/**
 * What every member operation shares: the records, the secret verifier, the configured clients,
 * the audit writer and the look-ups that check an actor's reach before anything is written.
 */
import type { AdapterFactory } from 'oidc-provider';
import type { ConfiguredClient, Mode } from '../../config/defaults.ts';
import { provinceOf } from '../identity/identifiers.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { Store } from '../platform/storage/types.ts';
import { assertProvince } from './actors.ts';
import { checkClientId, checkCode, problem } from './checks.ts';
import { createClientIdNamespace, describeHolder, serviceClientOwner, type ClientIdHolder, type ClientIdNamespace } from './client-ids.ts';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import { verifySectorIdentifier } from './redirect-uris.ts';
import { createGuardedFetch, type GuardedFetch } from '../platform/http/outbound.ts';
import { createMemberRecords, type MemberRecords } from './records.ts';
import { createSecretVerifier, generateSecret, type SecretKey, type SecretVerifier } from '../platform/crypto/client-secrets.ts';
import type { Actor, AuditAction, AuditEntry, MemberApp, MemberCity } from './types.ts';

export interface MemberRegistryOptions {
  readonly store: Store;
  /** `development` allows loopback http redirect URIs. */
  readonly mode: Mode;
  readonly issuer: string;
  /**
   * The oidc-provider storage adapter the brokers read (broker/oidc/adapter.ts): initial access
   * tokens are written through it.
   */
  readonly oidcAdapter: AdapterFactory;
  /** Clients of the configuration file: their ids are taken, and `show` lists them. */
  readonly configuredClients?: readonly ConfiguredClient[];
  readonly refreshMs?: number;
  /** Path of the registration endpoint (oidc-provider's default `/reg`). */
  readonly registrationPath?: string;
  /** Key of the stored secrets' keyed hashes (members/secrets.ts); without it, scrypt. */
  readonly secretKey?: SecretKey;
  /** The broker's one audit trail (broker/audit); default the store's own, opened at first use. */
  readonly audit?: AuditTrail;
  /** How `sector_identifier_uri` is fetched; default the outbound-URL guard (platform/http/outbound.ts). */
  readonly sectorFetch?: GuardedFetch;
}

export interface MemberContext {
  readonly options: MemberRegistryOptions;
  readonly store: Store;
  readonly records: MemberRecords;
  readonly secrets: SecretVerifier;
  readonly mode: Mode;
  readonly issuer: string;
  readonly configured: ReadonlyMap<string, ConfiguredClient>;
  /** The one client-id namespace of apps, services, configured and internal clients. */
  readonly clientIds: ClientIdNamespace;
  /** Takes a client id for an app, or throws `app_exists` naming who holds it. */
  takeClientId(clientId: string, field?: string): Promise<void>;
  /** OIDC Core 8.1: throws `invalid_app_metadata` unless `sector_identifier_uri` lists every redirect URI. */
  verifySector(app: { readonly sector_identifier_uri?: string; readonly redirect_uris: readonly string[] }): Promise<void>;
  now(): string;
  /** Appends an entry to the audit trail. */
  record(actor: Actor, action: AuditAction, target: AuditEntry['target'], where: { city?: string; province?: string }, before?: unknown, after?: unknown): Promise<AuditEntry>;
  /** A registered app the actor may act on (read fresh). */
  existingApp(actor: Actor, clientIdInput: unknown): Promise<MemberApp>;
  /** A member city the actor may act on. */
  cityFor(actor: Actor, codeInput: unknown, field?: string): Promise<MemberCity>;
  /** A new secret and its hash. */
  issueKey(): Promise<{ secret: string; hash: string }>;
}

export function createMemberContext(options: MemberRegistryOptions): MemberContext {
  const { store, mode, issuer } = options;
  const records = createMemberRecords(store, { ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }), ...(options.audit ? { audit: options.audit } : {}) });
  const configured = new Map((options.configuredClients ?? []).map((c) => [c.client_id, c]));
  const secrets = createSecretVerifier(options.secretKey ? { key: options.secretKey } : {});
  const clientIds = createClientIdNamespace({
    store,
    configured: new Set(configured.keys()),
    async legacyHolder(clientId): Promise<ClientIdHolder | undefined> {
      if (await records.app(clientId, { fresh: true })) return { kind: 'app', ref: clientId };
      const service = await serviceClientOwner(store, clientId);
      return service === undefined ? undefined : { kind: 'service', ref: service };
    },
  });
  let sectorFetch = options.sectorFetch;
  return {
    options,
    store,
    records,
    secrets,
    mode,
    issuer,
    configured,
    clientIds,
    async takeClientId(clientId, field = 'client_id') {
      const result = await clientIds.take(clientId, { kind: 'app', ref: clientId });
      if (!result.taken) throw problem(RegistryErrorCode.appExists, field, `client_id "${clientId}" is taken by ${describeHolder(result.holder)}; app, service, configured and internal client ids share one namespace`);
    },
    async verifySector(app) {
      if (app.sector_identifier_uri === undefined) return;
      sectorFetch ??= createGuardedFetch({ mode, timeoutMs: 5_000 });
      const refused = await verifySectorIdentifier(app.sector_identifier_uri, app.redirect_uris, mode, sectorFetch);
      if (refused) throw RegistryError.of([refused]);
    },
    now: () => new Date().toISOString(),

    async record(actor, action, target, where, before, after) {
      return records.appendAudit({
        actor,
        action,
        target,
        ...(where.city ? { city: where.city } : {}),
        ...(where.province ? { province: where.province } : {}),
        ...(before === undefined ? {} : { before }),
        ...(after === undefined ? {} : { after }),
      });
    },

    async existingApp(actor, clientIdInput) {
      const clientId = checkClientId(clientIdInput);
      const app = await records.app(clientId, { fresh: true });
      if (!app) {
        if (configured.has(clientId)) {
          throw problem(RegistryErrorCode.invalidRequest, 'client_id', `"${clientId}" is declared in the configuration file; change it there`);
        }
        throw problem(RegistryErrorCode.appNotFound, 'client_id', `no app with client_id "${clientId}" in the registry`);
      }
      assertProvince(actor, app.province, `app ${clientId}`);
      return app;
    },

    async cityFor(actor, codeInput, field = 'city') {
      const code = checkCode(codeInput, field);
      assertProvince(actor, provinceOf(code), `city ${code}`);
      const city = await records.city(code);
      if (!city) throw problem(RegistryErrorCode.cityNotFound, field, `city ${code} is not a member of the federation; add it first (add-city)`);
      return city;
    },

    async issueKey() {
      const secret = generateSecret();
      return { secret, hash: await secrets.hash(secret) };
    },
  };
}
