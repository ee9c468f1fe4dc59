/**
 * The registry of resource servers: each member city registers its APIs (identifier, which apps
 * may ask for them, accepted scopes, token format, token-exchange routes). Records live in the
 * shared store, so the CLI, the admin API and every broker node see one registry; each change is
 * written to the audit trail.
 *
 * Each resource server also gets a confidential client of its own (no redirect URI, no response
 * type): with it the service introspects the tokens sent to it and exchanges them along its
 * routes. Its secret is shown once, when it is generated, and only its scrypt hash is stored (as
 * for the member-city apps, broker/registry/secrets.ts).
 *
 * @example
 * const registry = createResourceRegistry({ store });
 * const { record, serviceClientSecret } = await registry.register({
 *   identifier: 'https://gjj.sh.example.gov.cn/api', city: '310000', scopes: ['gjj:read'], clients: ['shanghai-portal'],
 * }, { actor: 'operator:li' });
 */
import type { ClientMetadata } from 'oidc-provider';
import { TongbanError } from '../platform/errors.ts';
import { isLoopbackHost } from '../platform/http/urls.ts';
import { isDivisionCode } from '../identity/identifiers.ts';
import { createSecretVerifier, generateSecret, hashSecret, isSecretHash } from '../members/secrets.ts';
import type { Store } from '../platform/storage/types.ts';
import { createRegistryCache } from './cache.ts';
import { createAuditTrail, type AuditTrail } from './audit.ts';
import type { ExchangeRoute, ResourceServerInput, ResourceServerRecord } from './types.ts';

/** RFC 8693 grant type of the token exchange. */
export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Stable error codes of the registry. */
export const ResourceErrorCode = {
  invalid: 'resource_invalid',
  notFound: 'resource_not_found',
  conflict: 'resource_conflict',
} as const;

/** OpenID Connect scopes belong to the broker; a resource server accepts its own. */
const reservedScopes = new Set(['openid', 'offline_access', 'profile', 'email', 'phone', 'address', 'id_number', 'legal_person']);
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const defaultTtlSeconds = 300;
const maxTtlSeconds = 3600;

const recordKey = (identifier: string) => `resource:${identifier}`;
const indexKey = 'resources';
const serviceClientKey = (clientId: string) => `resource-client:${clientId}`;
const serviceSecretKey = (clientId: string) => `resource-client-secret:${clientId}`;

export interface ValidationOptions {
  /** Accept http identifiers on loopback addresses (development only). */
  readonly allowLoopbackHttp?: boolean;
}

/** Problems with a resource indicator, or an empty list. */
export function identifierProblems(value: unknown, options: ValidationOptions = {}): string[] {
  if (typeof value !== 'string' || value === '') return ['must be an absolute https URI'];
  const url = URL.parse(value);
  if (!url) return ['must be an absolute https URI'];
  const problems: string[] = [];
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowLoopbackHttp && isLoopbackHost(url))) {
    problems.push('must be https (http only on loopback in development)');
  }
  // RFC 8707 §2: no fragment, and no query.
  if (value.includes('#')) problems.push('must not contain a fragment');
  if (url.search !== '') problems.push('must not contain a query');
  return problems;
}

/** Every problem of a registration, each prefixed with its field; an empty list when valid. */
export function resourceServerProblems(input: unknown, options: ValidationOptions = {}): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return ['must be an object'];
  const r = input as Record<string, unknown>;
  const problems: string[] = [];
  for (const p of identifierProblems(r.identifier, options)) problems.push(`identifier: ${p}`);
  if (typeof r.city !== 'string' || !isDivisionCode(r.city)) problems.push('city: must be a 6-digit GB/T 2260 division code');
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name.trim() === '')) problems.push('name: must be a non-empty string');
  if (!Array.isArray(r.scopes) || r.scopes.length === 0) {
    problems.push('scopes: at least one');
  } else {
    for (const scope of r.scopes) {
      if (typeof scope !== 'string' || !scopeToken.test(scope)) problems.push(`scopes: "${String(scope)}" is not a scope token`);
      else if (reservedScopes.has(scope)) problems.push(`scopes: "${scope}" is an OpenID Connect scope of the broker`);
    }
  }
  if (r.clients !== undefined && (!Array.isArray(r.clients) || r.clients.some((c) => typeof c !== 'string' || c === ''))) {
    problems.push('clients: must be a list of client ids');
  }
  if (r.accessTokenFormat !== undefined && r.accessTokenFormat !== 'jwt' && r.accessTokenFormat !== 'opaque') {
    problems.push('accessTokenFormat: must be "jwt" or "opaque"');
  }
  if (r.accessTokenTtl !== undefined && (!Number.isInteger(r.accessTokenTtl) || (r.accessTokenTtl as number) < 1 || (r.accessTokenTtl as number) > maxTtlSeconds)) {
    problems.push(`accessTokenTtl: must be an integer 1–${maxTtlSeconds} (seconds)`);
  }
  if (r.serviceClientId !== undefined && (typeof r.serviceClientId !== 'string' || !/^[A-Za-z0-9._-]{3,100}$/.test(r.serviceClientId))) {
    problems.push('serviceClientId: 3–100 characters of A-Z a-z 0-9 . _ -');
  }
  if (r.serviceClientSecret !== undefined && (typeof r.serviceClientSecret !== 'string' || r.serviceClientSecret.length < 32)) {
    problems.push('serviceClientSecret: must be 32+ characters');
  }
  if (r.routes !== undefined) {
    if (!Array.isArray(r.routes)) {
      problems.push('routes: must be a list');
    } else {
      r.routes.forEach((route: unknown, i) => problems.push(...routeProblems(route, r.identifier, options).map((p) => `routes[${i}].${p}`)));
    }
  }
  return problems;
}

/** Problems of the configuration file's `resources` list, each prefixed with its key. */
export function configuredResourceServersProblems(list: unknown, mode: 'development' | 'production'): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return ['resources: must be a list'];
  const problems: string[] = [];
  const identifiers = new Set<string>();
  const serviceClients = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const at = `resources[${i}]`;
    problems.push(...resourceServerProblems(entry, { allowLoopbackHttp: mode === 'development' }).map((p) => `${at}.${p}`));
    const { identifier, serviceClientId } = (entry ?? {}) as { identifier?: unknown; serviceClientId?: unknown };
    if (typeof identifier === 'string') {
      if (identifiers.has(identifier)) problems.push(`${at}.identifier: duplicate "${identifier}"`);
      identifiers.add(identifier);
      const clientId = typeof serviceClientId === 'string' ? serviceClientId : URL.canParse(identifier) ? defaultServiceClientId(identifier) : undefined;
      if (clientId !== undefined) {
        if (serviceClients.has(clientId)) problems.push(`${at}.serviceClientId: duplicate "${clientId}"`);
        serviceClients.add(clientId);
      }
    }
  });
  return problems;
}

function routeProblems(route: unknown, from: unknown, options: ValidationOptions): string[] {
  if (typeof route !== 'object' || route === null) return ['must be an object'];
  const { target, scopes } = route as Record<string, unknown>;
  const problems = identifierProblems(target, options).map((p) => `target: ${p}`);
  if (target === from) problems.push('target: a service does not exchange tokens for itself');
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || !scopeToken.test(s))) {
    problems.push('scopes: at least one scope token');
  }
  return problems;
}

function invalid(problems: readonly string[]): TongbanError {
  return new TongbanError(ResourceErrorCode.invalid, {
    status: 400,
    message: `Invalid resource server: ${problems.join('; ')}`,
    messageZh: `资源服务登记信息不正确：${problems.join('；')}`,
  });
}

export function resourceNotFound(identifier: string): TongbanError {
  return new TongbanError(ResourceErrorCode.notFound, {
    status: 404,
    message: `No resource server is registered as ${identifier}.`,
    messageZh: `未登记资源服务 ${identifier}。`,
  });
}

/** A client id for a service, from its identifier: `rs-gjj.sh.example.gov.cn-api`. */
export function defaultServiceClientId(identifier: string): string {
  const url = new URL(identifier);
  const id = `rs-${url.host}${url.pathname}`.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-+$/, '');
  return id.slice(0, 100);
}

/**
 * The oidc-provider metadata of a service's own client. The secret's place holds its hash; the
 * presented secret is compared with it by `ResourceRegistry.verifyServiceSecret`.
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

export interface RegistryChangeOptions {
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

export interface ResourceRegistry {
  /** Registers a resource server, or replaces the registration of the same identifier. */
  register(input: ResourceServerInput, options: RegistryChangeOptions): Promise<RegistrationResult>;
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
  remove(identifier: string, options: RegistryChangeOptions): Promise<void>;
  /** Adds (or replaces) the route from `from` to `route.target`. */
  addRoute(from: string, route: ExchangeRoute, options: RegistryChangeOptions): Promise<ResourceServerRecord>;
  removeRoute(from: string, target: string, options: RegistryChangeOptions): Promise<ResourceServerRecord>;
  /** Gives a service's own client a new generated secret; the old one stops working at once. */
  rotateServiceSecret(identifier: string, options: RegistryChangeOptions): Promise<string>;
  /** Applies the configuration file's list (at start): registers each, keeping stored secrets. */
  applyConfigured(list: readonly ResourceServerInput[], options?: { allowLoopbackHttp?: boolean }): Promise<void>;
  readonly audit: AuditTrail;
}

export interface ResourceRegistryOptions {
  readonly store: Store;
  readonly audit?: AuditTrail;
  /** Whether a client id already belongs to an app: a service's own client may not take it. */
  readonly isClientIdTaken?: (clientId: string) => Promise<boolean>;
}

export function createResourceRegistry({ store, audit = createAuditTrail(store), isClientIdTaken }: ResourceRegistryOptions): ResourceRegistry {
  const secrets = createSecretVerifier();

  const cache = createRegistryCache(store);
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

  async function register(input: ResourceServerInput, options: RegistryChangeOptions, source: ResourceServerRecord['source'] = 'registry'): Promise<RegistrationResult> {
    const problems = resourceServerProblems(input, options);
    if (problems.length) throw invalid(problems);
    const existing = await get(input.identifier);
    const serviceClientId = input.serviceClientId ?? existing?.serviceClientId ?? defaultServiceClientId(input.identifier);
    const owner = await store.get<string>(serviceClientKey(serviceClientId));
    if ((owner !== undefined && owner !== input.identifier) || (owner === undefined && (await isClientIdTaken?.(serviceClientId)))) {
      throw new TongbanError(ResourceErrorCode.conflict, {
        status: 409,
        message: `The service client id ${serviceClientId} is taken${owner ? ` by ${owner}` : ' by an app'}.`,
        messageZh: `服务客户端标识 ${serviceClientId} 已被${owner ?? '应用'}占用。`,
      });
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
    if (secretChanged) await store.set(serviceSecretKey(serviceClientId), await hashSecret(given));
    if (existing && existing.serviceClientId !== serviceClientId) {
      await store.delete(serviceClientKey(existing.serviceClientId));
      await store.delete(serviceSecretKey(existing.serviceClientId));
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

  async function updateRoutes(from: string, options: RegistryChangeOptions, change: (routes: ExchangeRoute[]) => ExchangeRoute[], event: string, fields: Record<string, string | readonly string[]>) {
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
      return isSecretHash(hash) && (await byServiceClient(clientId)) !== undefined && secrets.verify(secret, hash);
    },
    async remove(identifier, options) {
      const record = await get(identifier);
      if (!record) throw resourceNotFound(identifier);
      await store.delete(serviceClientKey(record.serviceClientId));
      await store.delete(serviceSecretKey(record.serviceClientId));
      await store.delete(recordKey(identifier));
      await store.removeFromSet(indexKey, identifier);
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
      await store.set(serviceSecretKey(record.serviceClientId), await hashSecret(secret));
      await cache.changed();
      await audit.record('resource.secret_rotated', options.actor, { identifier, service_client: record.serviceClientId });
      return secret;
    },
    async applyConfigured(list, options = {}) {
      for (const input of list) await register(input, { actor: 'config', ...options }, 'config');
    },
  };
}
