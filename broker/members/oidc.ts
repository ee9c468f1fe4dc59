/**
 * The member registry inside oidc-provider:
 *
 * - clients not in the configuration file are looked up through the adapter's `Client` model,
 *   which answers from the registry: active apps only, so a suspended or removed app is unknown to
 *   every endpoint (its logins, token requests, userinfo and introspection all fail; a node may
 *   serve an active app from its cache for up to a second after a change made elsewhere, while
 *   suspended apps are always re-read, so a resume is seen at once);
 * - the secret's place in the metadata holds its stored hash (keyed, or scrypt), and `compareClientSecret` checks a
 *   presented secret against the hash read fresh from the store (a rotation takes effect at once
 *   on every node);
 * - dynamic client registration (RFC 7591/7592) goes through the same registry: the
 *   `member-city` policy forces the city bound to the initial access token and applies the app
 *   rules, and the adapter's `upsert`/`destroy` write the app with its secret hashed;
 * - a few koa steps: a clear page for a suspended app's login, and RFC 7592 answers that never
 *   echo the hash.
 */
import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import Provider, { errors } from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload, ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { readBody } from '../platform/http/body.ts';
import type { Logger } from '../platform/log.ts';
import { describeError } from '../platform/errors.ts';
import { errorPage } from '../platform/pages/layout.ts';
import { RegistryError } from './errors.ts';
import { appInputOfMetadata, checkAppInput, clientMetadataOfApp, extraMetadata } from './policy.ts';
import { isSecretHash } from '../platform/crypto/client-secrets.ts';
import type { MemberRegistry } from './member-registry.ts';
import type { MemberRecords } from './records.ts';
import { memberCityPolicy } from './initial-access-tokens.ts';
import type { Actor, MemberApp } from './types.ts';
import { createAdminApi } from './admin-api.ts';

function toOidcError(error: unknown): unknown {
  // A message that starts with "redirect_uris" becomes invalid_redirect_uri, as RFC 7591 asks.
  if (error instanceof RegistryError) return new errors.InvalidClientMetadata(error.message);
  return error;
}

function registrationActor(clientId: string): Actor {
  const iat = Provider.ctx?.oidc.entities.InitialAccessToken;
  const token = iat?.jti ? createHash('sha256').update(iat.jti).digest('base64url').slice(0, 16) : undefined;
  return { kind: 'dynamic_registration', client_id: clientId, ...(token ? { token } : {}) };
}

/** An app as served: read through the node's cache, but re-read when not active (suspended apps are few), so a resume takes effect at once. */
async function servedApp(records: MemberRecords, clientId: string): Promise<MemberApp | undefined> {
  const app = await records.app(clientId);
  return app && app.status !== 'active' ? records.app(clientId, { fresh: true }) : app;
}

/** The `Client` model's adapter: registry apps as oidc-provider client metadata. */
class MemberAppAdapter implements Adapter {
  readonly #service: MemberRegistry;
  constructor(service: MemberRegistry) {
    this.#service = service;
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const app = await servedApp(this.#service.records, id);
    return app?.status === 'active' ? (clientMetadataOfApp(app) as AdapterPayload) : undefined;
  }

  async upsert(id: string, payload: AdapterPayload): Promise<void> {
    try {
      await this.#service.saveRegisteredClient({ ...payload, client_id: id }, registrationActor(id));
    } catch (error) {
      throw toOidcError(error);
    }
  }

  async destroy(id: string): Promise<void> {
    await this.#service.removeRegisteredClient(id, registrationActor(id));
  }

  async consume(): Promise<void> {}
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async revokeByGrantId(): Promise<void> {}
}

/** Wraps the store adapter factory so that the `Client` model reads the member apps. */
export function withMemberApps(base: AdapterFactory, service: MemberRegistry): AdapterFactory {
  let clients: MemberAppAdapter | undefined;
  return (model: string) => {
    if (model !== 'Client') return base(model);
    clients ??= new MemberAppAdapter(service);
    return clients;
  };
}

/** Metadata a dynamically registered app keeps besides what the policy sets. */
const keptOnRegistration = new Set<string>(['client_id', 'client_id_issued_at', 'client_secret', 'client_secret_expires_at', 'jwks', 'jwks_uri', ...extraMetadata]);

/**
 * The `member-city` registration policy: the city comes from the initial access token (or, on an
 * RFC 7592 update, stays the app's own), and the request must pass the city's app rules. Metadata
 * the broker does not offer is dropped; the response tells the app what was registered.
 */
function memberCityPolicyOf(service: MemberRegistry) {
  return async (ctx: KoaContextWithOIDC, properties: ClientMetadata) => {
    const iat = ctx.oidc.entities.InitialAccessToken;
    let city: string | undefined;
    if (iat) {
      city = (await service.records.initialAccessTokenBinding(iat.jti))?.city;
      if (!city) throw new errors.InvalidToken('initial access token is not bound to a member city');
    } else {
      city = (ctx.oidc.client as unknown as { city?: string } | undefined)?.city;
    }
    if (!city) throw new errors.InvalidClientMetadata('the app has no member city');
    if (properties.city !== undefined && properties.city !== city) {
      throw new errors.InvalidClientMetadata(`city is fixed to ${city} by the registration token`);
    }
    const member = await service.records.city(city);
    if (!member) throw new errors.InvalidClientMetadata(`city ${city} is not a member of the federation`);
    const { value, problems } = checkAppInput(appInputOfMetadata(properties, city), { mode: service.mode, allowedScopes: member.registration_scopes, allowFirstParty: false });
    if (!value) throw toOidcError(RegistryError.of(problems));
    try {
      await service.verifySector(value);
    } catch (error) {
      if (error instanceof RegistryError) throw toOidcError(error);
      throw error;
    }
    // Last, once the request passes: a registration takes one use of a limited token (or is refused).
    if (iat) {
      const use = await service.useInitialAccessToken(iat.jti);
      if (use !== 'ok') throw new errors.InvalidToken(use === 'revoked' ? 'initial access token was revoked' : 'initial access token has been used up');
    }
    for (const key of Object.keys(properties)) if (!keptOnRegistration.has(key)) delete properties[key];
    Object.assign(properties, {
      city,
      first_party: false,
      client_name: value.name,
      redirect_uris: [...value.redirect_uris],
      post_logout_redirect_uris: [...value.post_logout_redirect_uris],
      ...(value.backchannel_logout_uri ? { backchannel_logout_uri: value.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
      token_endpoint_auth_method: value.token_endpoint_auth_method,
      grant_types: [...value.grant_types],
      response_types: ['code'],
      scope: value.scope,
      subject_type: 'pairwise',
      ...(value.purposes ? { purposes: { ...value.purposes } } : {}),
      ...(value.sector_identifier_uri ? { sector_identifier_uri: value.sector_identifier_uri } : {}),
    });
  };
}

type Features = NonNullable<Configuration['features']>;

/** `features.registration` and `features.registrationManagement` of the broker. */
export function registrationFeatures(service: MemberRegistry): Pick<Features, 'registration' | 'registrationManagement'> {
  return {
    registration: {
      enabled: true,
      initialAccessToken: true,
      issueRegistrationAccessToken: true,
      policies: { [memberCityPolicy]: memberCityPolicyOf(service) },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };
}

/**
 * Whether a token's client may still use it: a configured client while it is configured, a
 * registry app while it is active — read fresh, so a suspension is seen by every node at once
 * (introspection and token exchange ask this; see broker/resources).
 */
export function isClientActive(service: MemberRegistry): (provider: Provider, clientId: string) => Promise<boolean> {
  return async (provider, clientId) => {
    const client = await provider.Client.find(clientId);
    if (!client) return false;
    if ((client as unknown as { noManage?: boolean }).noManage) return true;
    const app = await service.records.app(clientId, { fresh: true });
    return app?.status === 'active';
  };
}

export interface InstallOptions {
  readonly service: MemberRegistry;
  readonly logger: Logger;
}

/**
 * Installs the member registry in a provider built with `withMemberApps` and
 * `registrationFeatures`: secret comparison, the suspended-app page, RFC 7592 clean-up and the
 * admin API under /admin.
 */
export function installMembers(provider: Provider, { service, logger }: InstallOptions): void {
  const { records, secrets } = service;
  const prototype = provider.Client.prototype as unknown as {
    clientId: string;
    clientSecret?: string;
    noManage?: boolean;
    compareClientSecret(actual: string): Promise<boolean> | boolean;
  };
  const compareStatic = prototype.compareClientSecret;
  prototype.compareClientSecret = async function compareClientSecret(actual: string) {
    if (!isSecretHash(this.clientSecret)) return compareStatic.call(this, actual);
    // A configured client may keep a hash in the configuration file instead of its secret.
    if (this.noManage) return secrets.verify(actual, this.clientSecret);
    const app = await records.app(this.clientId, { fresh: true });
    if (app?.status !== 'active' || !app.secret_hash) return false;
    const stored = app.secret_hash;
    // A slow hash of a generated secret is replaced by its keyed hash once the secret is seen.
    const upgrade = (keyed: string) => records.updateApp(app.client_id, (current) => (current.secret_hash === stored ? { ...current, secret_hash: keyed } : current));
    return secrets.verify(actual, stored, upgrade);
  };

  const authorizationPath = provider.pathFor('authorization');
  const registrationPath = provider.pathFor('registration');
  /** A suspended app, read fresh; a store failure falls through to oidc-provider, which reports it. */
  const suspended = async (clientId: string) => {
    try {
      const app = await servedApp(records, clientId);
      return app?.status === 'suspended' ? app : undefined;
    } catch {
      return undefined;
    }
  };

  provider.use(async (ctx: Context, next: Next) => {
    const clientId = ctx.query.client_id;
    if (ctx.path === authorizationPath && ctx.method === 'GET' && typeof clientId === 'string' && clientId.length <= 200 && !service.configuredClientIds.has(clientId)) {
      const app = await suspended(clientId);
      if (app) {
        logger.info('login_refused', { code: 'app_suspended', client: app.client_id });
        const refusal = describeError('app_suspended');
        ctx.status = refusal.status;
        ctx.type = 'html';
        ctx.set('cache-control', 'no-store');
        ctx.body = errorPage(refusal);
        return;
      }
    }
    if (ctx.path.startsWith(`${registrationPath}/`)) {
      await registrationManagement(ctx, next);
      return;
    }
    await next();
  });

  async function registrationManagement(ctx: Context, next: Next) {
    let clientId = '';
    try {
      clientId = decodeURIComponent(ctx.path.slice(registrationPath.length + 1));
    } catch {
      // oidc-provider answers a malformed path itself.
    }
    if (clientId && (await suspended(clientId))) {
      // Answered here: oidc-provider would otherwise take the app for unknown and destroy its token.
      ctx.status = 403;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_client', error_description: 'the app is suspended by the federation operators' };
      return;
    }
    if (clientId && ctx.method === 'PUT' && ctx.is('application/json')) {
      const app = await records.app(clientId, { fresh: true }).catch(() => undefined);
      if (app && !(await acceptPresentedSecret(ctx, app.secret_hash))) return;
    }
    await next();
    // RFC 7592 reads and updates echo the metadata: never the stored hash.
    const body = ctx.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object' && isSecretHash(body.client_secret)) {
      delete body.client_secret;
      delete body.client_secret_expires_at;
    }
  }

  /**
   * RFC 7592 lets an update carry the client's secret, which oidc-provider compares with the stored
   * value — here a hash. A secret that matches the hash is taken out of the request; a wrong one is
   * left in, and oidc-provider refuses the update.
   */
  async function acceptPresentedSecret(ctx: Context, hash: string | undefined): Promise<boolean> {
    const raw = await readBody(ctx, 56 * 1024);
    if (!raw) {
      ctx.status = 413;
      ctx.body = { error: 'invalid_request', error_description: 'the request body is too large' };
      return false;
    }
    const text = raw.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // oidc-provider reports the malformed body.
      (ctx.request as unknown as { body: unknown }).body = text;
      return true;
    }
    if (body && typeof body === 'object' && 'client_secret' in body) {
      const presented = (body as { client_secret?: unknown }).client_secret;
      if (hash && typeof presented === 'string' && (await secrets.verify(presented, hash))) {
        delete (body as { client_secret?: unknown }).client_secret;
      }
    }
    (ctx.request as unknown as { body: unknown }).body = body;
    return true;
  }

  provider.use(createAdminApi({ service, logger }));
}
