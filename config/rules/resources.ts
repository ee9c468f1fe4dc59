/**
 * The rules a resource server registration (RFC 8707 resource indicators) passes, whether it comes
 * from the configuration file's `resources` list, the CLI or the admin API: pure, every problem
 * reported, each prefixed with its field.
 */
import { isDivisionCode } from '../../broker/identity/identifiers.ts';
import { isLoopbackHost } from './urls.ts';

/** How access tokens for a resource look: a JWT it checks alone (RFC 9068) or an opaque handle it introspects. */
export type AccessTokenFormat = 'jwt' | 'opaque';

/** One configured token-exchange route: the owning service may call `target` for these scopes. */
export interface ExchangeRoute {
  /** Identifier (resource indicator) of the service called. */
  readonly target: string;
  /** Scopes the call may carry; a token exchange never asks for more. */
  readonly scopes: readonly string[];
}

/** What an operator gives to register a resource server (config file entry, CLI, admin API). */
export interface ResourceServerInput {
  readonly identifier: string;
  readonly city: string;
  readonly name?: string;
  readonly clients?: readonly string[];
  readonly scopes: readonly string[];
  /** Default `jwt`. */
  readonly accessTokenFormat?: AccessTokenFormat;
  /** Seconds; default 300. */
  readonly accessTokenTtl?: number;
  /** The service's own client id; default derived from the identifier's host and path. */
  readonly serviceClientId?: string;
  /** The service client's secret (32+ characters); generated when omitted. */
  readonly serviceClientSecret?: string;
  readonly routes?: readonly ExchangeRoute[];
}

/** A resource server declared in the configuration file (`resources: [...]`). */
export type ConfiguredResourceServer = ResourceServerInput;

/** OpenID Connect scopes belong to the broker; a resource server accepts its own. */
const reservedResourceScopes = new Set(['openid', 'offline_access', 'profile', 'email', 'phone', 'address', 'id_number', 'legal_person']);
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const maxTtlSeconds = 3600;

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
      else if (reservedResourceScopes.has(scope)) problems.push(`scopes: "${scope}" is an OpenID Connect scope of the broker`);
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

export function routeProblems(route: unknown, from: unknown, options: ValidationOptions): string[] {
  if (typeof route !== 'object' || route === null) return ['must be an object'];
  const { target, scopes } = route as Record<string, unknown>;
  const problems = identifierProblems(target, options).map((p) => `target: ${p}`);
  if (target === from) problems.push('target: a service does not exchange tokens for itself');
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || !scopeToken.test(s))) {
    problems.push('scopes: at least one scope token');
  }
  return problems;
}

/** A client id for a service, from its identifier: `rs-gjj.sh.example.gov.cn-api`. */
export function defaultServiceClientId(identifier: string): string {
  const url = new URL(identifier);
  const id = `rs-${url.host}${url.pathname}`.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-+$/, '');
  return id.slice(0, 100);
}
