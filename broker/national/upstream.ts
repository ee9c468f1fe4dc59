/**
 * The national platform as seen from the broker: one interface, one real implementation over
 * OpenID Connect with openid-client (code flow, PKCE S256, state, nonce, RFC 9207 `iss`), with
 * bounded time-outs on every call. Like a dex connector's `HandleCallback`, it answers with the
 * canonical identity: the national claims never leave this folder.
 */
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { CanonicalIdentity, Representation } from '../identity/model.ts';
import { TongbanError, tongbanError } from '../platform/errors.ts';
import type { Logger } from '../platform/log.ts';
import { fromNational, representationsOf } from './claims.ts';
import { createTimedFetch } from './http-fetch.ts';

export interface AuthorizationStart {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface StartOptions {
  /** National acr value to ask for, if any. */
  readonly acr?: string;
  /** Force a fresh national authentication (prompt=login / max_age on the broker). */
  readonly forceLogin?: boolean;
  /** The person's current language (OIDC `ui_locales`), so the national pages speak it too. */
  readonly uiLocales?: string;
}

export interface CallbackChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface NationalLoginResult {
  /** The person (and what they may represent), validated: a bad ID number never gets this far. */
  readonly identity: CanonicalIdentity;
  /** The national session id (`sid`), kept by single logout so a national back-channel logout finds it. */
  readonly sid?: string;
  readonly idToken: string;
  /** Kept server-side only, to ask the national userinfo again later (legal-person mandates). */
  readonly accessToken: string;
  /** Epoch seconds, when the national platform states the token's lifetime. */
  readonly accessTokenExpiresAt?: number;
}

export interface NationalPlatform {
  start(options: StartOptions): Promise<AuthorizationStart>;
  /**
   * Validates the callback strictly and returns the canonical identity. Throws `identity_invalid`
   * when the national claims do not pass, `upstream_*` codes when the exchange fails.
   */
  finish(callbackUrl: URL, checks: CallbackChecks): Promise<NationalLoginResult>;
  /**
   * What the person may represent now, asked of the national userinfo with the access token of an
   * earlier login; the answer's `sub` must be `expectedSubject`. Throws `upstream_*` codes when the
   * national platform refuses or cannot be reached, `identity_invalid` when its list fails validation.
   */
  currentMandates(accessToken: string, expectedSubject: string): Promise<Representation[]>;
  /** Where to send the browser to end the national session (RP-initiated logout), if supported. */
  endSessionUrl(options: { idTokenHint?: string; postLogoutRedirectUri: string; state?: string }): Promise<URL | undefined>;
}

export interface NationalPlatformOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly timeoutMs: number;
  /** ID token algorithms accepted; the first is asked for at registration. */
  readonly idTokenAlgorithm?: string;
  readonly logger: Logger;
}

const scope = 'openid profile phone id_number entities licences';

/**
 * Claims of the scopes above that the canonical identity is built from; an ID token carrying all of
 * them makes the userinfo call needless (`phone_number` is optional and absent for some people).
 */
const identityClaims = ['name', 'cert_type', 'cert_no', 'cert_key', 'entities'] as const;

/** A time-out or abort, of the call itself or of what it wrapped. */
function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  return error.cause instanceof Error && (error.cause.name === 'TimeoutError' || error.cause.name === 'AbortError');
}

function unavailable(detail: string, cause?: unknown): TongbanError {
  return tongbanError(isTimeout(cause) ? 'upstream_timeout' : 'upstream_unavailable', { detail, cause });
}

function rejected(detail: string, cause?: unknown): TongbanError {
  return tongbanError('upstream_token_invalid', { detail, cause });
}

export function createNationalPlatform(options: NationalPlatformOptions): NationalPlatform {
  let configuration: Promise<oidc.Configuration> | undefined;
  const timedFetch = createTimedFetch(options.timeoutMs) as oidc.CustomFetch;

  function discover(): Promise<oidc.Configuration> {
    configuration ??= (async () => {
      // Signature checks of token-endpoint ID tokens are opt-in in openid-client: the broker wants them.
      const execute = [oidc.enableNonRepudiationChecks, ...(new URL(options.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [])];
      const config = await oidc.discovery(
        new URL(options.issuer),
        options.clientId,
        {
          redirect_uris: [options.redirectUri],
          id_token_signed_response_alg: options.idTokenAlgorithm ?? 'RS256',
        },
        oidc.ClientSecretPost(options.clientSecret),
        { execute, [oidc.customFetch]: timedFetch, timeout: Math.ceil(options.timeoutMs / 1000) },
      );
      config[oidc.customFetch] = timedFetch;
      return config;
    })().catch((error: unknown) => {
      configuration = undefined; // try again on the next login
      throw unavailable(`discovery failed: ${(error as Error).name}`, error);
    });
    return configuration;
  }

  return {
    async start({ acr, forceLogin, uiLocales }) {
      const config = await discover();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const params: Record<string, string> = {
        redirect_uri: options.redirectUri,
        scope,
        // node:crypto rather than WebCrypto: a hash this small is cheaper than a thread-pool round trip.
        code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      if (acr) params.acr_values = acr;
      if (forceLogin) params.prompt = 'login';
      if (uiLocales) params.ui_locales = uiLocales;
      return { url: oidc.buildAuthorizationUrl(config, params), state, nonce, codeVerifier };
    },

    async finish(callbackUrl, checks) {
      const config = await discover();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw classify(error, 'token');
      }
      const idClaims = tokens.claims();
      if (!idClaims) throw rejected('no ID token');
      // The national platform releases the scope claims in the ID token too: userinfo is asked only
      // when the ID token lacks one the identity is built from (no call a login does not need).
      let userinfo: Record<string, unknown> = {};
      if (identityClaims.some((name) => idClaims[name] === undefined)) {
        try {
          userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        } catch (error) {
          throw classify(error, 'userinfo');
        }
      }
      const expiresIn = tokens.expiresIn();
      // The ID token's statements win over userinfo for what both carry (acr, auth_time, sub).
      const claims: Record<string, unknown> = { ...userinfo, ...idClaims };
      return {
        identity: fromNational(claims),
        ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
        idToken: tokens.id_token!,
        accessToken: tokens.access_token,
        ...(expiresIn !== undefined ? { accessTokenExpiresAt: Math.floor(Date.now() / 1000) + expiresIn } : {}),
      };
    },

    async currentMandates(accessToken, expectedSubject) {
      const config = await discover();
      let claims: Record<string, unknown>;
      try {
        claims = await oidc.fetchUserInfo(config, accessToken, expectedSubject);
      } catch (error) {
        throw classify(error, 'userinfo');
      }
      return representationsOf(claims);
    },

    async endSessionUrl({ idTokenHint, postLogoutRedirectUri, state }) {
      let config: oidc.Configuration;
      try {
        config = await discover();
      } catch {
        return undefined;
      }
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: options.clientId };
      if (idTokenHint) params.id_token_hint = idTokenHint;
      if (state) params.state = state;
      return oidc.buildEndSessionUrl(config, params);
    },
  };

  function classify(error: unknown, step: string): TongbanError {
    if (error instanceof TongbanError) return error;
    const err = error as Error & { code?: string; error?: string };
    // Authorization-response errors (e.g. access_denied) are the person's or platform's decision.
    if (err instanceof oidc.AuthorizationResponseError) {
      return tongbanError('upstream_denied', { detail: `${step}: authorization response error ${err.error ?? ''}` });
    }
    if (isTimeout(err) || (err.name === 'TypeError' && /fetch failed/.test(err.message))) {
      return unavailable(`${step}: ${err.name}`, error);
    }
    options.logger.debug('national_validation_failed', { step, reason: err.code ?? err.name });
    return rejected(`${step}: ${err.code ?? err.name}: ${err.message}`, error);
  }
}
