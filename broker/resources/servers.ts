/**
 * Resource servers in the broker: what oidc-provider needs for resource indicators (RFC 8707),
 * RFC 9068 JWT access tokens, introspection by the services themselves (RFC 7662 / RFC 9701), and
 * the token-exchange grant (RFC 8693). `createBroker` builds one and hands its parts to the
 * provider configuration; `install` registers the grant once the provider exists.
 *
 * Policy, in short:
 * - an app gets a token for a resource only when the resource lists the app (else `invalid_target`);
 * - a resource token's `sub` is pairwise for the province of the resource's city when the app is of
 *   that province too, else pairwise for that pair of provinces (no cross-province linkage); it
 *   carries `acr` and `auth_time` (RFC 9068 §2.2.1); an app introspecting its own token sees its own `sub`;
 * - a token may be introspected by the app it was issued to, or by the service it is for (with the
 *   service's own client); never by another app. Tokens of suspended apps, of revoked grants, and
 *   tokens exchanged from those, answer `active: false` at once.
 *
 * @example
 * const resources = createResourceServers({ store, logger, derive, issuer, signingKeys: () => keys.signing });
 * const provider = createProvider({ ..., resources });
 * resources.install(provider);
 */
import type { SecretKey } from '../platform/crypto/client-secrets.ts';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type AdapterFactory, type AdapterPayload, type Client, type Configuration, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../platform/log.ts';
import { cityOf, sectorOfCity } from '../release/sectors.ts';
import type { Store } from '../platform/storage/types.ts';
import { pairwiseSubject, type Derive } from '../identity/subjects.ts';
import { createAuditTrail, type AuditTrail } from './audit.ts';
import { lineageOf, registerTokenExchange } from './exchange.ts';
import { createResourceServerRecords, type ResourceServerRecords } from './records.ts';
import { audienceList, createTokenResolver, rememberJwtAccessToken, type ResourceTokenClaims } from './tokens.ts';
import type { ResourceServerRecord } from './types.ts';
import { tunables } from '../../config/defaults.ts';

type Features = NonNullable<Configuration['features']>;

export interface ResourceServersOptions {
  readonly store: Store;
  /** Key of the keyed hashes of generated service secrets (members/secrets.ts). */
  readonly secretKey?: SecretKey;
  readonly logger: Logger;
  readonly derive: Derive;
  readonly issuer: string;
  /** The broker's current signing keys (their public parts verify JWT subject tokens). */
  readonly signingKeys: () => readonly JWK[];
  readonly records?: ResourceServerRecords;
  /** The resource-shaped view of the broker's audit trail (resources/audit.ts); default the store's own. */
  readonly audit?: AuditTrail;
  /** Whether a client id already belongs to an app (a service's own client may not take it). */
  readonly isClientIdTaken?: (clientId: string) => Promise<boolean>;
  /**
   * Whether an app may still use its tokens. Default: the client is still registered. The
   * member registry plugs its suspension check in here.
   */
  readonly isClientActive?: (provider: Provider, clientId: string) => Promise<boolean>;
  readonly clockToleranceSeconds?: number;
}

export interface ResourceServers {
  readonly records: ResourceServerRecords;
  /** `features.resourceIndicators` */
  readonly resourceIndicators: NonNullable<Features['resourceIndicators']>;
  /** `features.introspection.allowedPolicy` */
  readonly introspectionAllowedPolicy: NonNullable<NonNullable<Features['introspection']>['allowedPolicy']>;
  /** `extraTokenClaims` */
  readonly extraTokenClaims: NonNullable<Configuration['extraTokenClaims']>;
  /** `formats.customizers.jwt` */
  readonly customizeJwt: NonNullable<NonNullable<NonNullable<Configuration['formats']>['customizers']>['jwt']>;
  /** `ttl.AccessToken`: the resource's own lifetime, else `fallbackSeconds`. */
  accessTokenTtl(fallbackSeconds: number): (ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number | undefined } | undefined }) => number;
  /**
   * `rotateRefreshToken`: always rotate, but first check the `resource` a refresh asks for.
   * oidc-provider rotates (consumes) the refresh token before it resolves the resource, so a
   * refused resource would otherwise cost the app its refresh token, and its next use would be
   * taken for a replay that revokes the whole grant.
   */
  rotateRefreshToken(ctx: KoaContextWithOIDC): Promise<boolean>;
  /**
   * Adds the resource scopes of the current authorization request to a grant: first-party apps
   * skip the consent page, so their grant covers what they asked for.
   */
  grantRequestedResources(ctx: KoaContextWithOIDC, grant: Grant): void;
  /**
   * Wraps the provider's storage adapter: the `Client` model answers from `base` (the member-city
   * registry's apps), then for the services' own clients.
   */
  withServiceClients(base: AdapterFactory): AdapterFactory;
  /**
   * Registers the token-exchange grant type and the services' secret check. Call once, after the
   * provider is created and after anything else that wraps `compareClientSecret`.
   */
  install(provider: Provider): void;
}

/** `adapter` of the provider configuration: the services' own clients beside `base`'s (see `withServiceClients`). */
export function withServiceClientsOf(resources: ResourceServers | undefined, base: AdapterFactory): AdapterFactory {
  return resources ? resources.withServiceClients(base) : base;
}

const clientExists = async (provider: Provider, clientId: string) => (await provider.Client.find(clientId)) !== undefined;

export function createResourceServers(options: ResourceServersOptions): ResourceServers {
  const { store, logger, derive, issuer } = options;
  const audit = options.records?.audit ?? options.audit ?? createAuditTrail(store);
  const records = options.records ?? createResourceServerRecords({
    store, audit, ...(options.isClientIdTaken ? { isClientIdTaken: options.isClientIdTaken } : {}), ...(options.secretKey ? { secretKey: options.secretKey } : {}),
  });
  const appActive = options.isClientActive ?? clientExists;
  // A service's own client is active while the service is registered (exchanged tokens are issued to it).
  const isClientActive = async (provider: Provider, clientId: string) =>
    (await records.byServiceClient(clientId)) !== undefined || appActive(provider, clientId);
  const clockToleranceSeconds = options.clockToleranceSeconds ?? tunables.clockToleranceSeconds;
  const resolveToken = createTokenResolver({ store, issuer, signingKeys: options.signingKeys, clockToleranceSeconds });
  const claimsFor = new WeakMap<object, ResourceTokenClaims>();
  // Registry records already read in this request (getResourceServerInfo, then the token's claims).
  const seen = new WeakMap<object, Map<string, ResourceServerRecord>>();
  /**
   * The `sub` of a token for a resource of `city` held by a client of `clientCity`. Both in one
   * province: the province's pairwise `sub`. Across provinces the token is readable by a client
   * of the other province (a JWT, or its own introspection), so it carries neither province's
   * `sub` but one of its own for that pair of provinces: no client can link a person across
   * provinces with it (issue 12, item 12).
   */
  const subjectIn = (accountId: string, city: string, clientCity: string | undefined) => {
    const sector = sectorOfCity(city);
    const clientSector = sectorOfCity(clientCity);
    return pairwiseSubject(derive, sector === clientSector ? sector : `${sector}<-${clientSector}`, accountId);
  };

  async function recordFor(ctx: KoaContextWithOIDC | undefined, identifier: string): Promise<ResourceServerRecord | undefined> {
    const cached = ctx ? seen.get(ctx)?.get(identifier) : undefined;
    if (cached) return cached;
    const record = await records.get(identifier);
    if (ctx && record) {
      if (!seen.has(ctx)) seen.set(ctx, new Map());
      seen.get(ctx)!.set(identifier, record);
    }
    return record;
  }

  async function grantStands(provider: Provider, grantId: string, clientId: string, accountId: string): Promise<boolean> {
    const grant = await provider.Grant.find(grantId);
    if (!grant || grant.clientId !== clientId || grant.accountId !== accountId) return false;
    return lineageStands(provider, grantId, accountId);
  }

  /** For a grant made by a token exchange: every grant it came from still stands, and the first app is active. */
  async function lineageStands(provider: Provider, grantId: string, accountId: string): Promise<boolean> {
    const lineage = await lineageOf(store, grantId);
    if (!lineage) return true;
    if (!(await isClientActive(provider, lineage.originClientId))) return false;
    const ancestors = await Promise.all(lineage.ancestors.map((id) => provider.Grant.find(id)));
    return ancestors.every((ancestor) => ancestor !== undefined && ancestor.accountId === accountId);
  }

  const refuseTarget = (client: Client, resource: string, reason: string, description: string) => {
    logger.info('resource_refused', { code: 'invalid_target', reason, client_id: client.clientId, resource: resource.slice(0, 200) });
    return new errors.InvalidTarget(description);
  };

  const resourceIndicators: ResourceServers['resourceIndicators'] = {
    enabled: true,
    async getResourceServerInfo(ctx, identifier, client) {
      const record = await recordFor(ctx, identifier);
      if (!record) throw refuseTarget(client, identifier, 'unknown_resource', 'the resource is not registered');
      if (!record.clients.includes(client.clientId)) {
        throw refuseTarget(client, identifier, 'client_not_allowed', 'this application may not ask for tokens to the resource');
      }
      return {
        audience: record.identifier,
        scope: record.scopes.join(' '),
        accessTokenFormat: record.accessTokenFormat,
        accessTokenTTL: record.accessTokenTtl,
      };
    },
    // Several granted resources: one alone is the default; with more the app must name one.
    async defaultResource(_ctx, _client, oneOf) {
      if (oneOf && oneOf.length === 1) return oneOf[0];
      return oneOf;
    },
    // A portal's token without `resource` stays the userinfo token; it names the resource to get an API token.
    async useGrantedResource() {
      return false;
    },
  };

  return {
    records,
    resourceIndicators,

    async introspectionAllowedPolicy(ctx, client, token) {
      const caller = client.clientId;
      const refused = (reason: string) => {
        logger.info('introspection_refused', { reason, client_id: caller, token_client_id: token.clientId });
        return false;
      };
      if (client.clientAuthMethod === 'none' && token.clientId !== caller) return refused('public_client');
      if (token.clientId && !(await isClientActive(ctx.oidc.provider, token.clientId))) return refused('token_client_inactive');
      // oidc-provider has checked the token's own grant; the grants it was exchanged from are checked here.
      // Only the exchange makes grants with a lineage, and it issues nothing but `token_exchange` tokens on them.
      const { grantId, accountId, gty } = token as { grantId?: string; accountId?: string; gty?: string };
      const exchanged = typeof gty === 'string' && gty.split(' ').includes('token_exchange');
      if (exchanged && grantId && accountId && !(await lineageStands(ctx.oidc.provider, grantId, accountId))) return refused('grant_revoked');
      if (token.clientId === caller) {
        // Its own token: the `sub` oidc-provider puts is the caller's own; the resource's (extra) must not replace it.
        const extra = (token as { extra?: Record<string, unknown> }).extra;
        if (extra && 'sub' in extra) delete extra.sub;
        return true;
      }
      const service = await records.byServiceClient(caller);
      if (service && audienceList((token as { aud?: string | string[] }).aud).includes(service.identifier)) return true;
      return refused('not_audience');
    },

    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const exchanged = claimsFor.get(token);
      if (exchanged) return { ...exchanged };
      const entities = ctx.oidc.entities;
      const source = entities.AuthorizationCode ?? entities.RefreshToken ?? entities.DeviceCode ?? entities.BackchannelAuthenticationRequest;
      const claims: ResourceTokenClaims = {};
      if (source?.acr) claims.acr = source.acr;
      if (source?.authTime) claims.auth_time = source.authTime;
      const aud = token.aud;
      const identifier = typeof aud === 'string' ? aud : undefined;
      if (identifier && token.accountId) {
        const record = await recordFor(ctx, identifier);
        if (record) claims.sub = subjectIn(token.accountId, record.city, cityOf(ctx.oidc.client));
      }
      return Object.keys(claims).length ? { ...claims } : undefined;
    },

    async customizeJwt(_ctx, token, parts) {
      const extra = (token.extra ?? {}) as ResourceTokenClaims;
      // oidc-provider puts the app's pairwise `sub`; the resource's province's one replaces it.
      if (typeof extra.sub === 'string') parts.payload.sub = extra.sub;
      if (token.kind === 'AccessToken' && token.accountId && token.grantId && typeof parts.payload.exp === 'number') {
        await rememberJwtAccessToken(store, token.jti, { accountId: token.accountId, grantId: token.grantId, clientId: token.clientId! }, parts.payload.exp);
      }
    },

    async rotateRefreshToken(ctx) {
      const requested = (ctx.oidc.params as { resource?: unknown }).resource;
      if (requested === undefined) return true;
      const list = Array.isArray(requested) ? requested : [requested];
      const refreshToken = ctx.oidc.entities.RefreshToken;
      if (list.length !== 1) throw new errors.InvalidTarget('only a single resource indicator value must be requested/resolved during Access Token Request');
      const resource = list[0];
      if (typeof resource !== 'string' || !URL.canParse(resource) || resource.includes('#')) throw new errors.InvalidTarget('resource indicator must be an absolute URI');
      await resourceIndicators.getResourceServerInfo!(ctx, resource, ctx.oidc.client!);
      if (refreshToken && !refreshToken.resourceIndicators.has(resource)) throw refuseTarget(ctx.oidc.client!, resource, 'not_granted', 'the resource was not granted to this refresh token');
      return true;
    },

    accessTokenTtl(fallbackSeconds) {
      return (_ctx, token) => token.resourceServer?.accessTokenTTL ?? fallbackSeconds;
    },

    grantRequestedResources(ctx, grant) {
      const scopes = ctx.oidc.requestParamScopes ?? new Set<string>();
      for (const [identifier, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        const granted = [...scopes].filter((scope) => server.scopes.has(scope));
        if (granted.length) grant.addResourceScope(identifier, granted.join(' '));
      }
    },

    withServiceClients(base) {
      let clients: ReturnType<AdapterFactory> | undefined;
      return (model: string) => {
        if (model !== 'Client') return base(model);
        const inner = base(model);
        clients ??= {
          // An app keeps its id: a service can never take over an app's client by registering its id.
          async find(id) {
            return (await inner.find(id)) ?? ((await records.serviceClient(id)) as AdapterPayload | undefined);
          },
          upsert: (id, payload, expiresIn) => inner.upsert(id, payload, expiresIn),
          destroy: (id) => inner.destroy(id),
          consume: (id) => inner.consume(id),
          findByUid: (uid) => inner.findByUid(uid),
          findByUserCode: (code) => inner.findByUserCode(code),
          revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
        };
        return clients;
      };
    },

    install(provider) {
      const prototype = provider.Client.prototype as unknown as {
        clientId: string;
        compareClientSecret(actual: string): Promise<boolean> | boolean;
      };
      const compareOthers = prototype.compareClientSecret;
      prototype.compareClientSecret = async function compareClientSecret(actual: string) {
        if (await records.byServiceClient(this.clientId)) return records.verifyServiceSecret(this.clientId, actual);
        return compareOthers.call(this, actual);
      };
      registerTokenExchange(provider, {
        store,
        records,
        audit,
        logger,
        resolveToken,
        subjectIn,
        isClientActive,
        grantStands,
        claimsFor,
      });
    },
  };
}
