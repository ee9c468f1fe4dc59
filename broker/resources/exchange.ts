/**
 * Token exchange (RFC 8693) for "异地受理，属地办理": a service holding a person's access token for
 * its own resource exchanges it for a token to another province's service, which then sees who
 * acts (`act`) and for whom (`sub`: pairwise for the pair of provinces, since the calling service
 * can read the token too; within one province, the province's own).
 *
 * One step per check, in the order they run:
 * 1. the request: token types, one target, no actor token;
 * 2. the caller: a registered service, authenticated with its own client;
 * 3. the subject token: issued by the broker for the caller's resource, still valid, its grant
 *    (and every grant it was exchanged from) still standing, its app not suspended → else invalid_grant;
 * 4. the route: configured from the caller to the target → else invalid_target;
 * 5. the scopes: requested ⊆ subject token's ∩ route's ∩ target's → else invalid_scope;
 * 6. the level: `acr` copied, never raised; `acr_values` above it → invalid_grant;
 * 7. issue: a token of the target's format and lifetime (never outliving the subject token),
 *    with `act` naming the caller, and an audit entry.
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { levelOfAcr } from '../identity/assurance.ts';
import { cityOf } from '../release/sectors.ts';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { AuditTrail } from './audit.ts';
import type { ResourceServerRecords } from './records.ts';
import { tokenExchangeGrantType } from './records.ts';
import type { ActorClaim, ResolveAccessToken, ResolvedToken, ResourceTokenClaims } from './tokens.ts';

export const tokenTypes = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** The grants a token was exchanged from (nearest last), and the app the first token was issued to. */
export interface Lineage {
  readonly ancestors: readonly string[];
  readonly originClientId: string;
}

const lineageKey = (grantId: string) => `resources:lineage:${grantId}`;

export async function lineageOf(store: Store, grantId: string): Promise<Lineage | undefined> {
  return store.get<Lineage>(lineageKey(grantId));
}

export interface ExchangeOptions {
  readonly store: Store;
  readonly records: ResourceServerRecords;
  readonly audit: AuditTrail;
  readonly logger: Logger;
  readonly resolveToken: ResolveAccessToken;
  /** `sub` of an account in a token for a resource of `city` held by a client of `clientCity` (servers.ts). */
  readonly subjectIn: (accountId: string, city: string, clientCity: string | undefined) => string;
  /** Whether the app a token was issued to may still use it (not suspended). */
  readonly isClientActive: (provider: Provider, clientId: string) => Promise<boolean>;
  /** Whether a grant, and every grant it was exchanged from, still stands. */
  readonly grantStands: (provider: Provider, grantId: string, clientId: string, accountId: string) => Promise<boolean>;
  /** Claims set here are what `extraTokenClaims` returns for this token. */
  readonly claimsFor: WeakMap<object, ResourceTokenClaims>;
}

const parameters = ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope', 'acr_values'];

class Refusal extends Error {
  constructor(readonly error: Error, readonly reason: string) {
    super(reason);
  }
}

const refuse = (error: Error, reason: string) => new Refusal(error, reason);

function single(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length === 1 && typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Registers the token-exchange grant type on a provider. */
export function registerTokenExchange(provider: Provider, options: ExchangeOptions): void {
  const { store, records, audit, logger, resolveToken, subjectIn, isClientActive, grantStands, claimsFor } = options;

  async function handle(ctx: KoaContextWithOIDC): Promise<void> {
    const params = ctx.oidc.params as Record<string, unknown>;
    const caller = ctx.oidc.client!;

    // 1. The request.
    const subjectToken = single(params.subject_token);
    if (!subjectToken) throw refuse(new errors.InvalidRequest('missing required parameter \'subject_token\''), 'no_subject_token');
    const subjectType = single(params.subject_token_type);
    if (subjectType !== tokenTypes.accessToken && subjectType !== tokenTypes.jwt) {
      throw refuse(new errors.InvalidRequest(`subject_token_type must be ${tokenTypes.accessToken}`), 'subject_token_type');
    }
    if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
      // The actor is the authenticated calling service itself.
      throw refuse(new errors.InvalidRequest('actor_token is not supported: the calling service is the actor'), 'actor_token');
    }
    const requestedType = single(params.requested_token_type);
    if (params.requested_token_type !== undefined && requestedType !== tokenTypes.accessToken) {
      throw refuse(new errors.InvalidRequest(`requested_token_type must be ${tokenTypes.accessToken}`), 'requested_token_type');
    }
    const targets = [params.resource, params.audience].flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
    const targetId = new Set(targets).size === 1 ? single(targets[0]) : undefined;
    if (!targetId) throw refuse(new errors.InvalidTarget('exactly one target service (resource or audience) is required'), 'target_count');

    // 2. The caller.
    const from = await records.byServiceClient(caller.clientId);
    if (!from) throw refuse(new errors.UnauthorizedClient('only a registered resource server may exchange tokens'), 'not_a_service');

    // 3. The subject token.
    const subject = await resolveToken(provider, subjectToken);
    if (!subject) throw refuse(new errors.InvalidGrant('subject_token is invalid, expired or revoked'), 'subject_inactive');
    if (!subject.audience.includes(from.identifier)) {
      throw refuse(new errors.InvalidGrant('subject_token was not issued for the calling service'), 'subject_audience');
    }
    if (!(await isClientActive(provider, subject.clientId))) {
      throw refuse(new errors.InvalidGrant('subject_token belongs to an application that is suspended'), 'subject_client_inactive');
    }
    if (!(await grantStands(provider, subject.grantId, subject.clientId, subject.accountId))) {
      throw refuse(new errors.InvalidGrant('subject_token is invalid, expired or revoked'), 'subject_grant_revoked');
    }

    // 4. The route and its target.
    const route = from.routes.find((r) => r.target === targetId);
    if (!route) throw refuse(new errors.InvalidTarget('no exchange route is configured from the calling service to this target'), 'no_route');
    const target = await records.get(targetId);
    if (!target) throw refuse(new errors.InvalidTarget('the target service is not registered'), 'unknown_target');

    // 5. The scopes: never wider than the subject token, the route and the target allow.
    const routeScopes = new Set(route.scopes);
    const targetScopes = new Set(target.scopes);
    const allowed = [...subject.scopes].filter((s) => routeScopes.has(s) && targetScopes.has(s));
    const asked = typeof params.scope === 'string' && params.scope.trim() !== '' ? [...new Set(params.scope.split(' ').filter(Boolean))] : allowed;
    const wider = asked.filter((s) => !allowed.includes(s));
    if (wider.length) throw refuse(new errors.InvalidScope('requested scope exceeds what the subject token and the route allow', wider.join(' ')), 'scope_wider');
    if (asked.length === 0) throw refuse(new errors.InvalidScope('no scope of the subject token may be passed along this route', ''), 'scope_empty');

    // 6. The level: copied, never raised.
    const subjectLevel = subject.acr ? levelOfAcr(subject.acr) : undefined;
    if (typeof params.acr_values === 'string' && params.acr_values.trim() !== '') {
      const levels = params.acr_values.split(' ').filter(Boolean).map(levelOfAcr);
      if (levels.some((l) => l === undefined)) throw refuse(new errors.InvalidRequest('acr_values holds an unknown assurance level'), 'acr_unknown');
      const lowest = Math.min(...(levels as number[]));
      if (subjectLevel === undefined || subjectLevel < lowest) {
        throw refuse(new errors.InvalidGrant('the subject token\'s assurance level is below the level asked for; an exchange never raises it'), 'acr_higher');
      }
    }

    // 7. Issue.
    await issue(ctx, subject, from.identifier, target, asked);
  }

  async function issue(ctx: KoaContextWithOIDC, subject: ResolvedToken, fromIdentifier: string, target: NonNullable<Awaited<ReturnType<ResourceServerRecords['get']>>>, scopes: readonly string[]) {
    const caller = ctx.oidc.client!;
    const now = Math.floor(Date.now() / 1000);
    const ttl = Math.max(1, Math.min(target.accessTokenTtl, subject.exp - now));
    const scope = scopes.join(' ');

    const grant = new provider.Grant({ clientId: caller.clientId, accountId: subject.accountId });
    grant.addResourceScope(target.identifier, scope);
    (grant as unknown as { expiresIn: number }).expiresIn = ttl;
    const grantId = await grant.save();
    const parent = await lineageOf(store, subject.grantId);
    const lineage: Lineage = { ancestors: [...(parent?.ancestors ?? []), subject.grantId], originClientId: parent?.originClientId ?? subject.clientId };
    await store.set(lineageKey(grantId), lineage, ttl * 1000);

    const act: ActorClaim = { sub: caller.clientId, ...(subject.act ? { act: subject.act } : {}) };
    const token = new provider.AccessToken({
      accountId: subject.accountId,
      client: caller,
      grantId,
      gty: 'token_exchange',
      scope,
      expiresIn: ttl,
    });
    token.resourceServer = new provider.ResourceServer(target.identifier, {
      audience: target.identifier,
      scope: target.scopes.join(' '),
      accessTokenFormat: target.accessTokenFormat,
      accessTokenTTL: ttl,
    });
    claimsFor.set(token, {
      // Issued to the calling service: across provinces a sub of its own, never the target province's (no linkage).
      sub: subjectIn(subject.accountId, target.city, cityOf(caller)),
      ...(subject.acr ? { acr: subject.acr } : {}),
      ...(subject.authTime ? { auth_time: subject.authTime } : {}),
      act,
    });
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();

    const fields = {
      client_id: caller.clientId,
      from: fromIdentifier,
      resource: target.identifier,
      subject_client_id: subject.clientId,
      origin_client_id: lineage.originClientId,
      scope,
      acr: subject.acr,
      depth: lineage.ancestors.length,
    };
    await audit.record('token.exchanged', caller.clientId, { ...fields, grant: grantId, format: target.accessTokenFormat });
    logger.info('token_exchanged', fields);

    ctx.body = {
      access_token: value,
      issued_token_type: tokenTypes.accessToken,
      token_type: 'Bearer',
      expires_in: ttl,
      scope,
    };
  }

  provider.registerGrantType(tokenExchangeGrantType, async (ctx) => {
    try {
      await handle(ctx as unknown as KoaContextWithOIDC);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      const oauth = error.error as Error & { error?: string };
      logger.info('token_exchange_refused', {
        code: oauth.error ?? 'invalid_request',
        reason: error.reason,
        client_id: ctx.oidc.client?.clientId,
        resource: (single((ctx.oidc.params as Record<string, unknown>).resource) ?? single((ctx.oidc.params as Record<string, unknown>).audience))?.slice(0, 200),
      });
      throw oauth;
    }
  }, parameters, ['resource', 'audience']);
}
