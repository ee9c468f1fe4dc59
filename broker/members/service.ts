/**
 * Every operation on member cities, their apps and the operators, in one place: the operator CLI
 * and the admin API call the same functions. Each operation checks its input completely before it
 * writes anything, checks what the actor may do (a province operator stays within its province),
 * and records the change in the audit trail without secrets.
 */
import { userInfo } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import type { ConfiguredClient, Mode } from '../../config/defaults.ts';
import type { SeedCity } from '../../config/cities.ts';
import { isDivisionCode, provinceOf } from '../identity/identifiers.ts';
import { createOidcAdapterFactory } from '../oidc/adapter.ts';
import type { Store } from '../platform/storage/types.ts';
import { RegistryError, RegistryErrorCode, type Problem } from './errors.ts';
import { appInputOfMetadata, appScopes, checkAppInput, defaultRegistrationScopes, extraMetadata, isPrintable, usesSecret, type AppInput } from './policy.ts';
import { createRegistry, type Registry } from './registry.ts';
import { createSecretVerifier, generateSecret, hashSecret, isSecretHash, type SecretVerifier } from './secrets.ts';
import { createInitialAccessTokenMinter, type InitialAccessTokenMinter } from './tokens.ts';
import type { Actor, AuditAction, AuditEntry, MemberApp, MemberCity, Operator, OperatorRole } from './types.ts';

export type OperatorActor = Extract<Actor, { kind: 'operator' }>;

/** An app as shown to operators: everything but the secret's hash. */
export type AppView = Omit<MemberApp, 'secret_hash'> & { readonly has_secret: boolean; readonly source: 'registry' };
/** A client declared in the configuration file: shown, never changed at run time. */
export interface ConfiguredAppView {
  readonly client_id: string;
  readonly city: string;
  readonly name: string;
  readonly redirect_uris: readonly string[];
  readonly scope: string;
  readonly first_party: boolean;
  readonly status: 'active';
  readonly source: 'config';
}
export type OperatorView = Omit<Operator, 'key_hash'>;
export interface CitySummary extends MemberCity {
  readonly apps: number;
}
export interface CityView {
  readonly city: MemberCity;
  readonly apps: ReadonlyArray<AppView | ConfiguredAppView>;
}
export interface RegisteredApp extends AppView {
  /** Shown once; only its hash is kept. */
  readonly client_secret?: string;
  readonly issuer: string;
  readonly discovery: string;
}
export interface IssuedInitialAccessToken {
  readonly initial_access_token: string;
  readonly city: string;
  readonly expires_at: string;
  readonly registration_endpoint: string;
}

export interface RegistryServiceOptions {
  readonly store: Store;
  /** `development` allows loopback http redirect URIs. */
  readonly mode: Mode;
  readonly issuer: string;
  /** Clients of the configuration file: their ids are taken, and `show` lists them. */
  readonly configuredClients?: readonly ConfiguredClient[];
  readonly refreshMs?: number;
  /** Path of the registration endpoint (oidc-provider's default `/reg`). */
  readonly registrationPath?: string;
}

export interface RegistryService {
  readonly registry: Registry;
  readonly secrets: SecretVerifier;
  readonly mode: Mode;
  /** Client ids declared in the configuration file (served by oidc-provider's static list). */
  readonly configuredClientIds: ReadonlySet<string>;
  /** Adds the seed cities that are missing, once per store; returns how many were added. */
  seed(cities: readonly SeedCity[]): Promise<number>;

  listCities(actor: Actor): Promise<CitySummary[]>;
  showCity(actor: Actor, code: unknown): Promise<CityView>;
  addCity(actor: Actor, input: { readonly code?: unknown; readonly name?: unknown; readonly registration_scopes?: unknown }): Promise<MemberCity>;
  registerApp(actor: Actor, input: AppInput): Promise<RegisteredApp>;
  showApp(actor: Actor, clientId: unknown): Promise<AppView>;
  suspendApp(actor: Actor, clientId: unknown): Promise<AppView>;
  resumeApp(actor: Actor, clientId: unknown): Promise<AppView>;
  rotateSecret(actor: Actor, clientId: unknown): Promise<{ readonly client_id: string; readonly client_secret: string }>;
  removeApp(actor: Actor, clientId: unknown): Promise<AppView>;
  audit(actor: Actor, query?: { readonly city?: unknown; readonly limit?: unknown }): Promise<AuditEntry[]>;
  issueInitialAccessToken(actor: Actor, input: { readonly city?: unknown; readonly ttl_seconds?: unknown }): Promise<IssuedInitialAccessToken>;

  addOperator(actor: Actor, input: { readonly name?: unknown; readonly role?: unknown; readonly province?: unknown }): Promise<{ readonly operator: OperatorView; readonly api_key: string }>;
  listOperators(actor: Actor): Promise<OperatorView[]>;
  revokeOperator(actor: Actor, id: unknown): Promise<OperatorView>;
  rotateOperatorKey(actor: Actor, id: unknown): Promise<{ readonly operator: OperatorView; readonly api_key: string }>;
  /** The operator an API key belongs to, or undefined for an unknown, revoked or wrong key. */
  authenticate(apiKey: string | undefined): Promise<OperatorActor | undefined>;

  /** Stores an app oidc-provider registered (RFC 7591) or updated (RFC 7592). */
  saveRegisteredClient(metadata: Readonly<Record<string, unknown>>, actor: Actor): Promise<MemberApp>;
  /** Removes an app at its own request (RFC 7592 delete). */
  removeRegisteredClient(clientId: string, actor: Actor): Promise<void>;
}

/** The person at the terminal, for the audit trail of CLI changes. */
export function cliActor(): Actor {
  let user = process.env.USER ?? process.env.USERNAME ?? 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): keep the environment's name.
  }
  return { kind: 'cli', user };
}

const minTokenTtl = 60;
const maxTokenTtl = 30 * 24 * 3600;
const defaultTokenTtl = 24 * 3600;
const apiKeyPattern = /^tbo_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const nameClaimMs = 5_000;

function appView(app: MemberApp): AppView {
  const { secret_hash: secretHash, ...rest } = app;
  return { ...rest, has_secret: secretHash !== undefined, source: 'registry' };
}

function operatorView(operator: Operator): OperatorView {
  const { key_hash: _hash, ...rest } = operator;
  return rest;
}

function configuredView(client: ConfiguredClient): ConfiguredAppView {
  return {
    client_id: client.client_id,
    city: client.city,
    name: client.client_name ?? client.client_id,
    redirect_uris: client.redirect_uris,
    scope: client.scope ?? 'openid profile phone offline_access',
    first_party: client.first_party ?? false,
    status: 'active',
    source: 'config',
  };
}

function problem(code: RegistryErrorCode, field: string, message: string): RegistryError {
  return RegistryError.of([{ field, code, message }]);
}

function checkCode(value: unknown, field = 'code'): string {
  if (typeof value !== 'string' || !isDivisionCode(value)) {
    throw problem(RegistryErrorCode.invalidDivisionCode, field, `"${String(value ?? '')}" is not a valid 6-digit GB/T 2260 division code`);
  }
  return value;
}

function checkClientId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 200) {
    throw problem(RegistryErrorCode.invalidRequest, 'client_id', 'a client_id is required');
  }
  return value;
}

function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'operator': return `operator ${actor.id} (${actor.role}${actor.province ? ` ${actor.province}` : ''})`;
    case 'cli': return `CLI user ${actor.user}`;
    case 'dynamic_registration': return `app ${actor.client_id} (dynamic registration)`;
    default: return actor.kind;
  }
}

/** Throws 403 unless the actor may act on things of `province`. */
function assertProvince(actor: Actor, province: string, what: string): void {
  if (actor.kind === 'operator' && actor.role === 'province' && actor.province !== province) {
    throw new RegistryError(RegistryErrorCode.forbidden, `${actorLabel(actor)} may act only within province ${actor.province}; ${what} belongs to province ${province}`);
  }
}

function assertFederation(actor: Actor, what: string): void {
  if (actor.kind === 'operator' && actor.role !== 'federation') {
    throw new RegistryError(RegistryErrorCode.forbidden, `only a federation operator may ${what}`);
  }
  if (actor.kind === 'dynamic_registration' || actor.kind === 'system') {
    throw new RegistryError(RegistryErrorCode.forbidden, `${actor.kind} may not ${what}`);
  }
}

const whereCity = (city: MemberCity) => ({ city: city.code, province: city.province });

/** App names are unique per city, compared without case and surrounding space. */
const nameKey = (name: string) => name.trim().toLowerCase();

function normalisedName(name: string): string {
  return createHash('sha256').update(nameKey(name)).digest('base64url');
}

export function createRegistryService(options: RegistryServiceOptions): RegistryService {
  const { store, mode, issuer } = options;
  const registry = createRegistry(store, options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs });
  const secrets = createSecretVerifier();
  const configured = new Map((options.configuredClients ?? []).map((c) => [c.client_id, c]));
  const registrationEndpoint = new URL(options.registrationPath ?? '/reg', issuer).href;
  let minter: InitialAccessTokenMinter | undefined;
  const now = () => new Date().toISOString();

  async function record(actor: Actor, action: AuditAction, target: AuditEntry['target'], where: { city?: string; province?: string }, before?: unknown, after?: unknown) {
    return registry.appendAudit({
      actor,
      action,
      target,
      ...(where.city ? { city: where.city } : {}),
      ...(where.province ? { province: where.province } : {}),
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    });
  }

  async function existingApp(actor: Actor, clientIdInput: unknown): Promise<MemberApp> {
    const clientId = checkClientId(clientIdInput);
    const app = await registry.app(clientId, { fresh: true });
    if (!app) {
      if (configured.has(clientId)) {
        throw problem(RegistryErrorCode.invalidRequest, 'client_id', `"${clientId}" is declared in the configuration file; change it there`);
      }
      throw problem(RegistryErrorCode.appNotFound, 'client_id', `no app with client_id "${clientId}" in the registry`);
    }
    assertProvince(actor, app.province, `app ${clientId}`);
    return app;
  }

  async function cityFor(actor: Actor, codeInput: unknown, field = 'city'): Promise<MemberCity> {
    const code = checkCode(codeInput, field);
    assertProvince(actor, provinceOf(code), `city ${code}`);
    const city = await registry.city(code);
    if (!city) throw problem(RegistryErrorCode.cityNotFound, field, `city ${code} is not a member of the federation; add it first (add-city)`);
    return city;
  }

  async function setStatus(actor: Actor, clientIdInput: unknown, status: MemberApp['status']): Promise<AppView> {
    const app = await existingApp(actor, clientIdInput);
    if (app.status === status) return appView(app);
    const { before, after } = await registry.updateApp(app.client_id, (current) => ({ ...current, status, updated_at: now() }));
    await record(actor, status === 'suspended' ? 'app.suspend' : 'app.resume', { type: 'app', id: app.client_id }, app, appView(before!), appView(after!));
    return appView(after!);
  }

  async function issueKey(): Promise<{ secret: string; hash: string }> {
    const secret = generateSecret();
    return { secret, hash: await hashSecret(secret) };
  }

  return {
    registry,
    secrets,
    mode,
    configuredClientIds: new Set(configured.keys()),

    async seed(cities) {
      if (await registry.seeded()) return 0;
      const existing = new Set((await registry.cities()).map((c) => c.code));
      const added: string[] = [];
      for (const seed of cities) {
        if (existing.has(seed.code) || !isDivisionCode(seed.code)) continue;
        const at = now();
        try {
          await registry.createCity({
            code: seed.code, name: seed.name, province: provinceOf(seed.code), registration_scopes: [...defaultRegistrationScopes],
            source: 'seed', created_at: at, updated_at: at, revision: 1,
          });
          added.push(seed.code);
        } catch (error) {
          // Another node seeding at the same moment created it.
          if (!(error instanceof RegistryError && error.code === RegistryErrorCode.conflict)) throw error;
        }
      }
      if (added.length) await record({ kind: 'system', reason: 'seed' }, 'city.seed', { type: 'city', id: 'reference-table' }, {}, undefined, { codes: added });
      await registry.markSeeded(added.length);
      return added.length;
    },

    async listCities(actor) {
      let cities = await registry.cities();
      if (actor.kind === 'operator' && actor.role === 'province') cities = cities.filter((c) => c.province === actor.province);
      const counts = await Promise.all(cities.map((c) => registry.appCount(c.code)));
      const configuredCounts = new Map<string, number>();
      for (const client of configured.values()) configuredCounts.set(client.city, (configuredCounts.get(client.city) ?? 0) + 1);
      return cities.map((c, i) => ({ ...c, apps: counts[i]! + (configuredCounts.get(c.code) ?? 0) }));
    },

    async showCity(actor, codeInput) {
      const city = await cityFor(actor, codeInput, 'code');
      const apps = (await registry.appsOf(city.code)).map(appView);
      const fromConfig = [...configured.values()].filter((c) => c.city === city.code).map(configuredView);
      return { city, apps: [...fromConfig, ...apps] };
    },

    async addCity(actor, input) {
      const problems: Problem[] = [];
      const code = typeof input.code === 'string' ? input.code : '';
      if (!isDivisionCode(code)) problems.push({ field: 'code', code: RegistryErrorCode.invalidDivisionCode, message: `"${String(input.code ?? '')}" is not a valid 6-digit GB/T 2260 division code` });
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (name === '' || name.length > 64 || !isPrintable(name)) problems.push({ field: 'name', code: RegistryErrorCode.invalidRequest, message: 'required, 1-64 printable characters' });
      let scopes = [...defaultRegistrationScopes];
      if (input.registration_scopes !== undefined) {
        const list = typeof input.registration_scopes === 'string' ? input.registration_scopes.split(/\s+/).filter(Boolean) : input.registration_scopes;
        if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || !appScopes.includes(s)) || !list.includes('openid')) {
          problems.push({ field: 'registration_scopes', code: RegistryErrorCode.invalidScope, message: `scopes among ${appScopes.join(' ')}, openid included` });
        } else {
          scopes = [...new Set(list as string[])];
        }
      }
      if (problems.length) throw RegistryError.of(problems);
      assertProvince(actor, provinceOf(code), `city ${code}`);
      if (await registry.city(code)) throw problem(RegistryErrorCode.cityExists, 'code', `city ${code} is already a member`);
      const at = now();
      const city: MemberCity = { code, name, province: provinceOf(code), registration_scopes: scopes, source: 'operator', created_at: at, updated_at: at, revision: 1 };
      try {
        await registry.createCity(city);
      } catch (error) {
        if (error instanceof RegistryError && error.code === RegistryErrorCode.conflict) throw problem(RegistryErrorCode.cityExists, 'code', `city ${code} is already a member (or being added)`);
        throw error;
      }
      await record(actor, 'city.add', { type: 'city', id: code }, whereCity(city), undefined, city);
      return city;
    },

    async registerApp(actor, input) {
      const { value, problems } = checkAppInput(input, { mode, allowFirstParty: true });
      if (!value) throw RegistryError.of(problems);
      const city = await cityFor(actor, value.city);
      let clientId = value.client_id;
      if (clientId !== undefined && (configured.has(clientId) || (await registry.app(clientId, { fresh: true })))) {
        throw problem(RegistryErrorCode.appExists, 'client_id', `client_id "${clientId}" is taken`);
      }
      clientId ??= `${city.code}-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
      const sameName = (name: string) => nameKey(name) === nameKey(value.name);
      const existing = await registry.appsOf(city.code);
      if (existing.some((a) => sameName(a.name)) || [...configured.values()].some((c) => c.city === city.code && sameName(c.client_name ?? c.client_id))) {
        throw problem(RegistryErrorCode.appExists, 'name', `city ${city.code} already has an app named "${value.name}"`);
      }
      if (!(await store.claim(`registry:app-name:${city.code}:${normalisedName(value.name)}`, nameClaimMs))) {
        throw problem(RegistryErrorCode.appExists, 'name', `an app named "${value.name}" is being registered in city ${city.code} right now`);
      }
      const key = usesSecret(value.token_endpoint_auth_method) ? await issueKey() : undefined;
      const at = now();
      const { client_id: _given, ...policy } = value;
      const app: MemberApp = {
        ...policy,
        client_id: clientId,
        province: city.province,
        status: 'active',
        ...(key ? { secret_hash: key.hash, secret_issued_at: at } : {}),
        registered_via: 'operator',
        created_at: at,
        updated_at: at,
        revision: 1,
      };
      try {
        await registry.createApp(app);
      } catch (error) {
        if (error instanceof RegistryError && error.code === RegistryErrorCode.conflict) throw problem(RegistryErrorCode.appExists, 'client_id', `client_id "${clientId}" is taken`);
        throw error;
      }
      await record(actor, 'app.register', { type: 'app', id: clientId }, app, undefined, appView(app));
      // client_id and the secret first: what an operator copies out of the output.
      const head = { client_id: clientId, ...(key ? { client_secret: key.secret } : {}) };
      return Object.assign(head, appView(app), { issuer, discovery: new URL('/.well-known/openid-configuration', issuer).href });
    },

    async showApp(actor, clientId) {
      return appView(await existingApp(actor, clientId));
    },
    suspendApp: (actor, clientId) => setStatus(actor, clientId, 'suspended'),
    resumeApp: (actor, clientId) => setStatus(actor, clientId, 'active'),

    async rotateSecret(actor, clientIdInput) {
      const app = await existingApp(actor, clientIdInput);
      if (!usesSecret(app.token_endpoint_auth_method)) {
        throw problem(RegistryErrorCode.invalidRequest, 'client_id', `app ${app.client_id} authenticates with ${app.token_endpoint_auth_method} and has no secret; change its keys instead`);
      }
      const key = await issueKey();
      const { before, after } = await registry.updateApp(app.client_id, (current) => ({ ...current, secret_hash: key.hash, secret_issued_at: now(), updated_at: now() }));
      await record(actor, 'app.rotate_secret', { type: 'app', id: app.client_id }, app, appView(before!), appView(after!));
      return { client_id: app.client_id, client_secret: key.secret };
    },

    async removeApp(actor, clientIdInput) {
      const app = await existingApp(actor, clientIdInput);
      const removed = await registry.removeApp(app.client_id);
      await record(actor, 'app.remove', { type: 'app', id: app.client_id }, app, appView(removed), undefined);
      return appView(removed);
    },

    async audit(actor, query = {}) {
      let limit = 100;
      if (query.limit !== undefined) {
        const n = Number(query.limit);
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw problem(RegistryErrorCode.invalidRequest, 'limit', 'must be an integer 1-1000');
        limit = n;
      }
      let city: string | undefined;
      if (query.city !== undefined && query.city !== '') {
        city = checkCode(query.city, 'city');
        assertProvince(actor, provinceOf(city), `city ${city}`);
      }
      const province = actor.kind === 'operator' && actor.role === 'province' ? actor.province : (city ? provinceOf(city) : undefined);
      return registry.audit({ ...(province ? { province } : {}), ...(city ? { city } : {}), limit });
    },

    async issueInitialAccessToken(actor, input) {
      const city = await cityFor(actor, input.city);
      let ttl = defaultTokenTtl;
      if (input.ttl_seconds !== undefined) {
        const n = Number(input.ttl_seconds);
        if (!Number.isInteger(n) || n < minTokenTtl || n > maxTokenTtl) throw problem(RegistryErrorCode.invalidRequest, 'ttl_seconds', `must be an integer ${minTokenTtl}-${maxTokenTtl}`);
        ttl = n;
      }
      minter ??= createInitialAccessTokenMinter(createOidcAdapterFactory(store, { clockToleranceSeconds: 5 }), issuer);
      const token = await minter(ttl);
      const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
      await registry.bindInitialAccessToken(token, { city: city.code, issued_by: actor, expires_at: expiresAt }, ttl * 1000 + 5000);
      // The token itself is never recorded; its digest identifies it in the trail.
      const id = createHash('sha256').update(token).digest('base64url').slice(0, 16);
      await record(actor, 'initial_access_token.issue', { type: 'initial_access_token', id }, whereCity(city), undefined, { city: city.code, expires_at: expiresAt });
      return { initial_access_token: token, city: city.code, expires_at: expiresAt, registration_endpoint: registrationEndpoint };
    },

    async addOperator(actor, input) {
      assertFederation(actor, 'add operators');
      const problems: Problem[] = [];
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (name === '' || name.length > 100 || !isPrintable(name)) problems.push({ field: 'name', code: RegistryErrorCode.invalidRequest, message: 'required, 1-100 printable characters' });
      const role = input.role as OperatorRole;
      if (role !== 'federation' && role !== 'province') problems.push({ field: 'role', code: RegistryErrorCode.invalidRequest, message: 'must be "federation" or "province"' });
      let province: string | undefined;
      if (role === 'province') {
        if (typeof input.province !== 'string' || !isDivisionCode(input.province) || provinceOf(input.province) !== input.province) {
          problems.push({ field: 'province', code: RegistryErrorCode.invalidDivisionCode, message: `a province operator needs a province code such as 330000, got "${String(input.province ?? '')}"` });
        } else {
          province = input.province;
        }
      } else if (input.province !== undefined) {
        problems.push({ field: 'province', code: RegistryErrorCode.invalidRequest, message: 'only province operators have a province' });
      }
      if (problems.length) throw RegistryError.of(problems);
      const id = randomBytes(6).toString('hex');
      const key = await issueKey();
      const at = now();
      const operator: Operator = { id, name, role, ...(province ? { province } : {}), status: 'active', key_hash: key.hash, created_at: at, updated_at: at, revision: 1 };
      await registry.createOperator(operator);
      await record(actor, 'operator.add', { type: 'operator', id }, province ? { province } : {}, undefined, operatorView(operator));
      return { operator: operatorView(operator), api_key: `tbo_${id}_${key.secret}` };
    },

    async listOperators(actor) {
      assertFederation(actor, 'list operators');
      return (await registry.operators()).map(operatorView);
    },

    async revokeOperator(actor, idInput) {
      assertFederation(actor, 'revoke operators');
      const id = String(idInput ?? '');
      const { before, after } = await registry.updateOperator(id, (current) => ({ ...current, status: 'revoked', updated_at: now() }));
      await record(actor, 'operator.revoke', { type: 'operator', id }, before!.province ? { province: before!.province } : {}, operatorView(before!), operatorView(after!));
      return operatorView(after!);
    },

    async rotateOperatorKey(actor, idInput) {
      assertFederation(actor, 'rotate operator keys');
      const id = String(idInput ?? '');
      const key = await issueKey();
      const { before, after } = await registry.updateOperator(id, (current) => {
        if (current.status !== 'active') throw problem(RegistryErrorCode.invalidRequest, 'id', `operator ${id} is revoked`);
        return { ...current, key_hash: key.hash, updated_at: now() };
      });
      await record(actor, 'operator.rotate_key', { type: 'operator', id }, before!.province ? { province: before!.province } : {}, operatorView(before!), operatorView(after!));
      return { operator: operatorView(after!), api_key: `tbo_${id}_${key.secret}` };
    },

    async authenticate(apiKey) {
      const match = apiKey ? apiKeyPattern.exec(apiKey) : null;
      if (!match) return undefined;
      const operator = await registry.operator(match[1]!);
      if (!operator || operator.status !== 'active') return undefined;
      if (!(await secrets.verify(match[2]!, operator.key_hash))) return undefined;
      return { kind: 'operator', id: operator.id, name: operator.name, role: operator.role, ...(operator.province ? { province: operator.province } : {}) };
    },

    async saveRegisteredClient(metadata, actor) {
      const clientId = checkClientId(metadata.client_id);
      const city = await registry.city(checkCode(metadata.city, 'city'));
      if (!city) throw problem(RegistryErrorCode.cityNotFound, 'city', `city ${String(metadata.city)} is not a member of the federation`);
      const { value, problems } = checkAppInput(appInputOfMetadata(metadata, metadata.city), { mode, allowedScopes: city.registration_scopes, allowFirstParty: false });
      if (!value) throw RegistryError.of(problems);
      const secret = metadata.client_secret;
      const secretHash = !usesSecret(value.token_endpoint_auth_method) || typeof secret !== 'string'
        ? undefined
        : isSecretHash(secret) ? secret : await hashSecret(secret);
      const extra: Record<string, unknown> = {};
      for (const key of extraMetadata) if (metadata[key] !== undefined) extra[key] = metadata[key];
      const at = now();
      const fields = {
        ...value,
        client_id: clientId,
        province: city.province,
        extra,
        ...(secretHash ? { secret_hash: secretHash } : {}),
        updated_at: at,
      };
      const existing = await registry.app(clientId, { fresh: true });
      const sameName = (await registry.appsOf(city.code)).find((a) => a.client_id !== clientId && nameKey(a.name) === nameKey(value.name));
      if (sameName) throw problem(RegistryErrorCode.appExists, 'client_name', `city ${city.code} already has an app named "${value.name}"`);
      if (existing) {
        if (existing.city !== city.code) throw problem(RegistryErrorCode.invalidAppMetadata, 'city', 'an app cannot move to another city');
        const { before, after } = await registry.updateApp(clientId, (current) => {
          const { secret_hash: _old, secret_issued_at: _issued, ...kept } = current;
          return {
            ...kept,
            ...fields,
            ...(secretHash ? { secret_issued_at: secretHash === current.secret_hash ? current.secret_issued_at ?? at : at } : {}),
          };
        });
        await record(actor, 'app.update', { type: 'app', id: clientId }, whereCity(city), appView(before!), appView(after!));
        return after!;
      }
      const app: MemberApp = {
        ...fields,
        status: 'active',
        ...(secretHash ? { secret_issued_at: at } : {}),
        registered_via: 'dynamic_registration',
        created_at: at,
        revision: 1,
      };
      await registry.createApp(app);
      await record(actor, 'app.register', { type: 'app', id: clientId }, whereCity(city), undefined, appView(app));
      return app;
    },

    async removeRegisteredClient(clientId, actor) {
      const app = await registry.app(clientId, { fresh: true });
      if (!app) return;
      const removed = await registry.removeApp(clientId);
      await record(actor, 'app.remove', { type: 'app', id: clientId }, app, appView(removed), undefined);
    },
  };
}
