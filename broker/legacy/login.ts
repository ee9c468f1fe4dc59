/**
 * The login half of the legacy bridges, done through the broker's own OpenID Connect machinery:
 * the login entry sends the browser to the broker's `/auth` as a first-party bridge client of the
 * province (PKCE, state bound to this browser by a cookie), so single sign-on, the session,
 * prompts and the national login all apply as for any portal. The broker's return route takes the
 * authorization code, redeems it in-process through oidc-provider's models (client, redirect URI,
 * PKCE, one-time consumption), issues a one-time ticket and sends it to the system's REGISTERED
 * callback. The return address a system passes is only ever echoed to that callback.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { ConfiguredClient, TongbanConfig } from '../../config/defaults.ts';
import { adapterById, legacyAdapters } from '../../adapters/registry.ts';
import { tongbanError, type TongbanError } from '../platform/errors.ts';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { Derive } from '../identity/subjects.ts';
import type { LegacyCompanies } from './companies.ts';
import type { LegacyCredentials } from './credentials.ts';
import { legacyScopes, type LegacyProvince, type LegacyRegistry, type LegacySystem } from './registry.ts';
import { routes } from '../../config/defaults.ts';

/** The broker route the bridge clients' authorization responses come back to. */
export const legacyReturnPath = routes.legacyReturn;

export function bridgeClientId(province: LegacyProvince): string {
  return `tongban-legacy-${province}`;
}

/**
 * The internal first-party clients, one per province with a legacy API. Their secret is derived
 * from the deployment secret (every node computes the same one; nobody outside knows it), and
 * their only redirect URI is the broker's own return route.
 */
export function legacyBridgeClients(config: TongbanConfig, derive: Derive): ConfiguredClient[] {
  return legacyAdapters().map((adapter) => {
    const clientId = bridgeClientId(adapter.id);
    return {
      client_id: clientId,
      client_secret: derive('tongban:legacy-bridge', clientId),
      client_name: `${adapter.name} legacy ticket bridge`,
      city: adapter.provinceCode,
      redirect_uris: [new URL(legacyReturnPath, config.issuer).href],
      grant_types: ['authorization_code'],
      scope: ['openid', ...legacyScopes].join(' '),
      first_party: true,
    };
  });
}

interface PendingLegacyLogin {
  readonly province: LegacyProvince;
  readonly serviceCode: string;
  readonly returnAddress?: string;
  readonly codeVerifier: string;
}

const statePattern = /^[A-Za-z0-9_-]{43}$/;
const pendingKey = (state: string) => `legacy:pending:${state}`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

export interface LegacyLoginOptions {
  readonly provider: Provider;
  readonly store: Store;
  readonly logger: Logger;
  readonly issuer: string;
  readonly cookiePrefix: string;
  readonly interactionTtlSeconds: number;
  readonly registry: LegacyRegistry;
  readonly credentials: LegacyCredentials;
  /** Company logins: the company each authorization was bound to. */
  readonly companies?: LegacyCompanies;
}

export interface LegacyLogin {
  /** Starts a broker login for a system; `returnAddress` is echoed to its registered callback. */
  start(ctx: Context, system: LegacySystem, returnAddress: string | undefined): Promise<void>;
  /** Mounts the return route. */
  mount(router: Router): void;
}

export const LegacyLoginCode = {
  unknownSystem: 'legacy_unknown_system',
  invalidRequest: 'legacy_invalid_request',
  stateMismatch: 'legacy_state_mismatch',
  loginFailed: 'legacy_login_failed',
} as const;

export function unknownSystem(detail: string): TongbanError {
  return tongbanError(LegacyLoginCode.unknownSystem, { detail });
}

export function invalidLegacyRequest(detail: string): TongbanError {
  return tongbanError(LegacyLoginCode.invalidRequest, { detail });
}

export function createLegacyLogin(options: LegacyLoginOptions): LegacyLogin {
  const { provider, store, logger, issuer, registry, credentials } = options;
  const returnUri = new URL(legacyReturnPath, issuer).href;
  const ttlMs = options.interactionTtlSeconds * 1000;
  // One cookie per login in progress, so two tabs logging into two systems do not clash.
  const cookieName = (state: string) => `${options.cookiePrefix}_legacy_${state.slice(0, 16)}`;

  const stateError = (detail: string) => tongbanError(LegacyLoginCode.stateMismatch, { detail });

  /** Redeems the authorization code the way the token endpoint would, without issuing tokens. */
  async function redeem(value: string, clientId: string, codeVerifier: string) {
    const code = await provider.AuthorizationCode.find(value);
    if (!code || code.clientId !== clientId || code.isExpired || (code as { consumed?: unknown }).consumed || code.redirectUri !== returnUri) return undefined;
    if (code.codeChallengeMethod !== 'S256' || typeof code.codeChallenge !== 'string') return undefined;
    const expected = Buffer.from(sha256(codeVerifier));
    const challenge = Buffer.from(code.codeChallenge);
    if (expected.length !== challenge.length || !timingSafeEqual(expected, challenge)) return undefined;
    // One-time across nodes (the storage adapter's claim); a replay throws invalid_grant.
    await code.consume();
    const grant = code.grantId ? await provider.Grant.find(code.grantId) : undefined;
    if (!grant || grant.accountId !== code.accountId || grant.clientId !== clientId) return undefined;
    if (!code.accountId || !code.sessionUid) return undefined;
    // A company login: the ticket carries the company the person chose; without one nothing is issued.
    const companyLogin = (code.scope ?? '').split(' ').includes('legal_person');
    const company = companyLogin ? await options.companies?.actingForGrant(grant.jti) : undefined;
    if (companyLogin && !company) return undefined;
    return {
      accountId: code.accountId, sessionUid: code.sessionUid, scope: code.scope ?? 'openid', ...(code.acr ? { acr: code.acr } : {}),
      ...(company ? { creditCode: company.creditCode } : {}),
    };
  }

  return {
    async start(ctx, system, returnAddress) {
      const state = randomBytes(32).toString('base64url');
      const codeVerifier = randomBytes(32).toString('base64url');
      const pending: PendingLegacyLogin = {
        province: system.province,
        serviceCode: system.serviceCode,
        ...(returnAddress !== undefined ? { returnAddress } : {}),
        codeVerifier,
      };
      await store.set(pendingKey(state), pending, ttlMs);
      ctx.cookies.set(cookieName(state), state, {
        path: legacyReturnPath, httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure, maxAge: ttlMs, overwrite: true,
      });
      const auth = new URL(routes.oidc.authorization, issuer);
      auth.search = new URLSearchParams({
        client_id: bridgeClientId(system.province),
        response_type: 'code',
        redirect_uri: returnUri,
        scope: ['openid', ...system.scopes].join(' '),
        state,
        code_challenge: sha256(codeVerifier),
        code_challenge_method: 'S256',
      }).toString();
      logger.info('legacy_login_started', { province: system.province, service: system.serviceCode });
      ctx.set('cache-control', 'no-store');
      ctx.status = 303;
      ctx.redirect(auth.href);
    },

    mount(router) {
      router.get(legacyReturnPath, async (ctx) => {
        ctx.set('cache-control', 'no-store');
        const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
        if (!statePattern.test(state)) throw stateError('state missing or malformed');
        const bound = ctx.cookies.get(cookieName(state), { signed: true });
        ctx.cookies.set(cookieName(state), null, { path: legacyReturnPath, signed: true });
        if (bound !== state) throw stateError('state not bound to this browser');
        if (!(await store.claim(`legacy:return-used:${state}`, ttlMs))) throw stateError('state already used');
        const pending = await store.get<PendingLegacyLogin>(pendingKey(state));
        await store.delete(pendingKey(state));
        if (!pending) throw stateError('no login in progress for this state');
        // RFC 9207: the response must come from this broker.
        if (ctx.query.iss !== issuer) throw stateError('iss mismatch');

        if (typeof ctx.query.error === 'string') {
          const denied = ctx.query.error === 'access_denied';
          throw tongbanError(denied ? 'legacy_login_denied' : LegacyLoginCode.loginFailed, { detail: `authorization error ${ctx.query.error.slice(0, 64)}` });
        }
        const system = await registry.get(pending.province, pending.serviceCode);
        if (!system || system.suspended) throw unknownSystem('system removed or suspended during login');
        const code = typeof ctx.query.code === 'string' && ctx.query.code.length <= 512 ? ctx.query.code : undefined;
        let redeemed;
        try {
          redeemed = code ? await redeem(code, bridgeClientId(pending.province), pending.codeVerifier) : undefined;
        } catch (error) {
          if ((error as { error?: string }).error !== 'invalid_grant') throw error;
        }
        if (!redeemed) throw stateError('authorization code not redeemable');

        const ticket = await credentials.issueTicket({ province: system.province, serviceCode: system.serviceCode, ...redeemed });
        const dialect = adapterById(system.province)!.legacy!;
        const target = new URL(system.callbackUrl);
        for (const name of dialect.ticketParams) target.searchParams.set(name, ticket);
        if (pending.returnAddress !== undefined) target.searchParams.set(dialect.returnParam, pending.returnAddress);
        logger.info('legacy_ticket_issued', { province: system.province, service: system.serviceCode });
        ctx.status = 302;
        ctx.redirect(target.href);
      });
    },
  };
}
