/**
 * The records of resource servers: each member city registers its APIs (identifier, which apps
 * may ask for them, accepted scopes, token format, token-exchange routes). Records live in the
 * shared store, so the CLI, the admin API and every broker node see the same records; each change is
 * written to the audit trail.
 *
 * Each resource server also gets a confidential client of its own (no redirect URI, no response
 * type): with it the service introspects the tokens sent to it and exchanges them along its
 * routes. Its secret is shown once, when it is generated, and only its keyed hash is stored (as
 * for the member-city apps, broker/members/secrets.ts).
 *
 * @example
 * const records = createResourceServerRecords({ store });
 * const { record, serviceClientSecret } = await records.register({
 *   identifier: 'https://gjj.sh.example.gov.cn/api', city: '310000', scopes: ['gjj:read'], clients: ['shanghai-portal'],
 * }, { actor: 'operator:li' });
 */
import type { ClientMetadata } from 'oidc-provider';
import { tongbanError, type TongbanError } from '../platform/errors.ts';
import { defaultServiceClientId, resourceServerProblems, routeProblems } from '../../config/rules/resources.ts';
import { createSecretVerifier, generateSecret, hashSecret, isSecretHash, type SecretKey } from '../platform/crypto/client-secrets.ts';
import type { Store } from '../platform/storage/types.ts';
import { createClientIdNamespace, describeHolder, serviceClientKey, type ClientIdNamespace } from '../members/client-ids.ts';
import { createResourceServerCache } from './cache.ts';
import { createAuditTrail, type AuditTrail } from './audit.ts';
import type { ExchangeRoute, ResourceServerInput, ResourceServerRecord } from './types.ts';

/** RFC 8693 grant type of the token exchange. */
export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Stable error codes of the registry. */
export {
  configuredResourceServersProblems, defaultServiceClientId, identifierProblems, resourceServerProblems, type ValidationOptions,
} from '../../config/rules/resources.ts';

export const ResourceErrorCode = {
  invalid: 'resource_invalid',
  notFound: 'resource_not_found',
  conflict: 'resource_conflict',
} as const;

const defaultTtlSeconds = 300;

const recordKey = (identifier: string) => `resource:${identifier}`;
const indexKey = 'resources';
const serviceSecretKey = (clientId: string) => `resource-client-secret:${clientId}`;

function invalid(problems: readonly string[]): TongbanError {
  return tongbanError(ResourceErrorCode.invalid, { params: { problems } });
}

export function resourceNotFound(identifier: string): TongbanError {
  return tongbanError(ResourceErrorCode.notFound, { params: { identifier } });
}

/**
 * The oidc-provider metadata of a service's own client. The secret's place holds its hash; the
 * presented secret is compared with it by `ResourceServerRecords.verifyServiceSecret`.
 */
export function serviceClientMetadata(record: ResourceServerRecord, secretHash: string): ClientMetadata {
  return {
    client_id: record.serviceClientId,
    client_secret: secretHash,
    client_name: record.name,
    city: record.city,
    // It never logs anyone in: no redirect URI, no response type. It may exchange tokens (routes decide where to).
    redirect_uris: [],
    response_types: [],
    grant_types: [tokenExchangeGrantType],
    token_endpoint_auth_method: 'client_secret_basic',
    // RFC 9701: a signed introspection answer when the service asks for one (Accept: application/token-introspection+jwt).
    introspection_signed_response_alg: 'ES256',
  };
}

export interface RecordChangeOptions {
  /** Who makes the change, for the audit trail (an operator name, `config`, ...). */
  readonly actor: string;
  /** Accept http identifiers on loopback addresses (development only). */
  readonly allowLoopbackHttp?: boolean;
}

export interface RegistrationResult {
  readonly record: ResourceServerRecord;
  readonly created: boolean;
  /** The service client's secret, only when it was generated now. Shown once; not retrievable later. */
  readonly serviceClientSecret?: string;
}

export interface ResourceServerRecords {
  /** Registers a resource server, or replaces the registration of the same identifier. */
  register(input: ResourceServerInput, options: RecordChangeOptions): Promise<RegistrationResult>;
  get(identifier: string): Promise<ResourceServerRecord | undefined>;
  /** Every registered resource server, by identifier. */
  list(): Promise<ResourceServerRecord[]>;
  /** The resource server whose own client this is. */
  byServiceClient(clientId: string): Promise<ResourceServerRecord | undefined>;
  /** oidc-provider metadata of a service's own client, or undefined when no service has that client id. */
  serviceClient(clientId: string): Promise<ClientMetadata | undefined>;
  /** Whether `secret` is the current secret of a service's own client. */
  verifyServiceSecret(clientId: string, secret: string): Promise<boolean>;
  /** Removes a registration and its service client. Tokens already issued for it keep their expiry. */
  remove(identifier: string, options: RecordChangeOptions): Promise<void>;
  /** Adds (or replaces) the route from `from` to `route.target`. */
  addRoute(from: string, route: ExchangeRoute, options: RecordChangeOptions): Promise<ResourceServerRecord>;
  removeRoute(from: string, target: string, options: RecordChangeOptions): Promise<ResourceServerRecord>;
  /** Gives a service's own client a new generated secret; the old one stops working at once. */
  rotateServiceSecret(identifier: string, options: RecordChangeOptions): Promise<string>;
  /** Applies the configuration file's list (at start): registers each, keeping stored secrets. */
  applyConfigured(list: readonly ResourceServerInput[], options?: { allowLoopbackHttp?: boolean }): Promise<void>;
  readonly audit: AuditTrail;
}

export interface ResourceServerRecordsOptions {
  readonly store: Store;
  /** Key of the keyed hashes of generated service secrets (members/secrets.ts); without it, scrypt. */
  readonly secretKey?: SecretKey;
  readonly audit?: AuditTrail;
  /** Whether a client id already belongs to an app: a service's own client may not take it. */
  readonly isClientIdTaken?: (clientId: string) => Promise<boolean>;
  /** The one client-id namespace (members/client-ids.ts); default: one over `store` that asks `isClientIdTaken` for older apps. */
  readonly clientIds?: ClientIdNamespace;
}

export function createResourceServerRecords({ store, audit = createAuditTrail(store), isClientIdTaken, secretKey, clientIds: givenClientIds }: ResourceServerRecordsOptions): ResourceServerRecords {
  const secrets = createSecretVerifier(secretKey ? { key: secretKey } : {});
  const clientIds = givenClientIds ?? createClientIdNamespace({
    store,
    async legacyHolder(clientId) {
      const service = await store.get<string>(serviceClientKey(clientId));
      if (service !== undefined) return { kind: 'service', ref: service };
      return (await isClientIdTaken?.(clientId)) ? { kind: 'app', ref: clientId } : undefined;
    },
  });

  const cache = createResourceServerCache(store);
  // Changes read fresh; requests read through the node's cache.
  const get = async (identifier: string) => (typeof identifier === 'string' ? store.get<ResourceServerRecord>(recordKey(identifier)) : undefined);
  const cachedGet = (identifier: string) => (typeof identifier === 'string' ? cache.through(recordKey(identifier), () => get(identifier)) : Promise.resolve(undefined));

  function byServiceClient(clientId: string): Promise<ResourceServerRecord | undefined> {
    if (typeof clientId !== 'string') return Promise.resolve(undefined);
    return cache.through(serviceClientKey(clientId), async () => {
      const identifier = await store.get<string>(serviceClientKey(clientId));
      if (identifier === undefined) return undefined;
      const record = await get(identifier);
      return record?.serviceClientId === clientId ? record : undefined;
    });
  }

  async function save(record: ResourceServerRecord): Promise<void> {
    await store.set(recordKey(record.identifier), record);
    await store.addToSet(indexKey, record.identifier);
    await store.set(serviceClientKey(record.serviceClientId), record.identifier);
    await cache.changed();
  }

  async function register(input: ResourceServerInput, options: RecordChangeOptions, source: ResourceServerRecord['source'] = 'registry'): Promise<RegistrationResult> {
    const problems = resourceServerProblems(input, options);
    if (problems.length) throw invalid(problems);
    const existing = await get(input.identifier);
    const serviceClientId = input.serviceClientId ?? existing?.serviceClientId ?? defaultServiceClientId(input.identifier);
    const owner = await store.get<string>(serviceClientKey(serviceClientId));
    if ((owner !== undefined && owner !== input.identifier) || (owner === undefined && (await isClientIdTaken?.(serviceClientId)))) {
      throw owner
        ? tongbanError(ResourceErrorCode.conflict, { params: { serviceClientId, owner } })
        : tongbanError('resource_client_id_taken', { params: { serviceClientId } });
    }
    // Apps, services, configured and internal clients share one namespace, taken atomically.
    const taken = await clientIds.take(serviceClientId, { kind: 'service', ref: input.identifier });
    if (!taken.taken) {
      throw taken.holder.kind === 'service'
        ? tongbanError(ResourceErrorCode.conflict, { params: { serviceClientId, owner: taken.holder.ref } })
        : tongbanError('resource_client_id_taken', { params: { serviceClientId }, detail: describeHolder(taken.holder) });
    }
    const now = new Date().toISOString();
    const record: ResourceServerRecord = {
      identifier: input.identifier,
      city: input.city,
      name: input.name ?? existing?.name ?? input.identifier,
      clients: [...new Set(input.clients ?? [])],
      scopes: [...new Set(input.scopes)],
      accessTokenFormat: input.accessTokenFormat ?? 'jwt',
      accessTokenTtl: input.accessTokenTtl ?? defaultTtlSeconds,
      serviceClientId,
      routes: (input.routes ?? []).map((route) => ({ target: route.target, scopes: [...new Set(route.scopes)] })),
      source,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    const storedHash = await store.get<string>(serviceSecretKey(serviceClientId));
    const generated = input.serviceClientSecret === undefined && !isSecretHash(storedHash) ? generateSecret() : undefined;
    const given = input.serviceClientSecret ?? generated;
    // A configuration file gives the same secret at every start: keep the stored hash then.
    const secretChanged = given !== undefined && !(isSecretHash(storedHash) && (await secrets.verify(given, storedHash)));
    // A generated secret gets the keyed hash; one a person wrote into the configuration keeps scrypt.
    if (secretChanged) await store.set(serviceSecretKey(serviceClientId), given === generated ? await secrets.hash(given) : await hashSecret(given));
    if (existing && existing.serviceClientId !== serviceClientId) {
      await store.delete(serviceClientKey(existing.serviceClientId));
      await store.delete(serviceSecretKey(existing.serviceClientId));
      await clientIds.release(existing.serviceClientId, { kind: 'service', ref: existing.identifier });
    }
    const changed = !existing || JSON.stringify({ ...existing, createdAt: '', updatedAt: '' }) !== JSON.stringify({ ...record, createdAt: '', updatedAt: '' });
    // Re-applying an unchanged configuration at every start leaves the record (and its dates) alone.
    if (changed) await save(record);
    if (changed || secretChanged) {
      await audit.record(existing ? 'resource.updated' : 'resource.registered', options.actor, {
        identifier: record.identifier,
        city: record.city,
        clients: record.clients,
        scopes: record.scopes,
        format: record.accessTokenFormat,
        service_client: serviceClientId,
        routes: record.routes.map((r) => `${r.target} ${r.scopes.join(',')}`),
        secret_changed: secretChanged,
      });
    }
    return { record: changed || !existing ? record : existing, created: !existing, ...(generated ? { serviceClientSecret: generated } : {}) };
  }

  async function updateRoutes(from: string, options: RecordChangeOptions, change: (routes: ExchangeRoute[]) => ExchangeRoute[], event: string, fields: Record<string, string | readonly string[]>) {
    const record = await get(from);
    if (!record) throw resourceNotFound(from);
    const routes = change([...record.routes]);
    const problems = routes.flatMap((route, i) => routeProblems(route, from, options).map((p) => `routes[${i}].${p}`));
    if (problems.length) throw invalid(problems);
    const updated: ResourceServerRecord = { ...record, routes, updatedAt: new Date().toISOString() };
    await save(updated);
    await audit.record(event, options.actor, { identifier: from, ...fields });
    return updated;
  }

  return {
    audit,
    register: (input, options) => register(input, options),
    get: cachedGet,
    async list() {
      const identifiers = (await store.members(indexKey)).sort();
      const records = await store.getMany<ResourceServerRecord>(identifiers.map(recordKey));
      return records.filter((r): r is ResourceServerRecord => r !== undefined);
    },
    byServiceClient,
    async serviceClient(clientId) {
      const record = await byServiceClient(clientId);
      const hash = record ? await store.get<string>(serviceSecretKey(clientId)) : undefined;
      return record && isSecretHash(hash) ? serviceClientMetadata(record, hash) : undefined;
    },
    async verifyServiceSecret(clientId, secret) {
      const hash = await store.get<string>(serviceSecretKey(clientId));
      const upgrade = async (keyed: string) => {
        if ((await store.get<string>(serviceSecretKey(clientId))) === hash) await store.set(serviceSecretKey(clientId), keyed);
      };
      return isSecretHash(hash) && (await byServiceClient(clientId)) !== undefined && secrets.verify(secret, hash, upgrade);
    },
    async remove(identifier, options) {
      const record = await get(identifier);
      if (!record) throw resourceNotFound(identifier);
      await store.delete(serviceClientKey(record.serviceClientId));
      await store.delete(serviceSecretKey(record.serviceClientId));
      await store.delete(recordKey(identifier));
      await store.removeFromSet(indexKey, identifier);
      await clientIds.release(record.serviceClientId, { kind: 'service', ref: identifier });
      await cache.changed();
      await audit.record('resource.removed', options.actor, { identifier, service_client: record.serviceClientId });
    },
    addRoute(from, route, options) {
      return updateRoutes(from, options, (routes) => [...routes.filter((r) => r.target !== route.target), { target: route.target, scopes: [...new Set(route.scopes)] }],
        'resource.route_added', { target: route.target, scopes: [...route.scopes] });
    },
    removeRoute(from, target, options) {
      return updateRoutes(from, options, (routes) => {
        if (!routes.some((r) => r.target === target)) throw resourceNotFound(`${from} → ${target}`);
        return routes.filter((r) => r.target !== target);
      }, 'resource.route_removed', { target });
    },
    async rotateServiceSecret(identifier, options) {
      const record = await get(identifier);
      if (!record) throw resourceNotFound(identifier);
      const secret = generateSecret();
      await store.set(serviceSecretKey(record.serviceClientId), await secrets.hash(secret));
      await cache.changed();
      await audit.record('resource.secret_rotated', options.actor, { identifier, service_client: record.serviceClientId });
      return secret;
    },
    async applyConfigured(list, options = {}) {
      for (const input of list) await register(input, { actor: 'config', ...options }, 'config');
    },
  };
}
