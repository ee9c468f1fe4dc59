/**
 * The national platform as seen from the broker: one interface, one real implementation over
 * OpenID Connect with openid-client (code flow, PKCE S256, state, nonce, RFC 9207 `iss`), with
 * bounded time-outs on every call.
 */
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { ErrorCode, TongbanError } from '../platform/errors.ts';
import type { Logger } from '../platform/log.ts';
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
}

export interface CallbackChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface NationalLoginResult {
  readonly claims: Record<string, unknown>;
  readonly idToken: string;
  /** Kept server-side only, to ask the national userinfo again later (legal-person mandates). */
  readonly accessToken: string;
  /** Epoch seconds, when the national platform states the token's lifetime. */
  readonly accessTokenExpiresAt?: number;
}

export interface NationalPlatform {
  start(options: StartOptions): Promise<AuthorizationStart>;
  /** Validates the callback strictly and returns the merged national claims. */
  finish(callbackUrl: URL, checks: CallbackChecks): Promise<NationalLoginResult>;
  /**
   * The national userinfo answer now, for an access token of an earlier login (the current state of
   * what the person may represent). The answer's `sub` must be `expectedSubject`.
   */
  userinfo(accessToken: string, expectedSubject: string): Promise<Record<string, unknown>>;
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

const scope = 'openid profile phone id_number entities';

/** A time-out or abort, of the call itself or of what it wrapped. */
function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  return error.cause instanceof Error && (error.cause.name === 'TimeoutError' || error.cause.name === 'AbortError');
}

function unavailable(detail: string, cause?: unknown): TongbanError {
  const timeout = isTimeout(cause);
  return new TongbanError(timeout ? ErrorCode.upstreamTimeout : ErrorCode.upstreamUnavailable, {
    status: timeout ? 504 : 502,
    message: 'The national government service platform cannot be reached right now. Please try again later.',
    messageZh: '暂时无法连接国家政务服务平台，请稍后再试。',
    detail,
    cause,
  });
}

function rejected(detail: string, cause?: unknown): TongbanError {
  return new TongbanError(ErrorCode.upstreamTokenInvalid, {
    status: 502,
    message: 'The answer of the national government service platform failed validation; the login was stopped.',
    messageZh: '国家政务服务平台的应答未通过安全校验，登录已中止。',
    detail,
    cause,
  });
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
    async start({ acr, forceLogin }) {
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
      let userinfo: Record<string, unknown> = {};
      try {
        userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      } catch (error) {
        throw classify(error, 'userinfo');
      }
      const expiresIn = tokens.expiresIn();
      // The ID token's statements win over userinfo for what both carry (acr, auth_time, sub).
      return {
        claims: { ...userinfo, ...idClaims },
        idToken: tokens.id_token!,
        accessToken: tokens.access_token,
        ...(expiresIn !== undefined ? { accessTokenExpiresAt: Math.floor(Date.now() / 1000) + expiresIn } : {}),
      };
    },

    async userinfo(accessToken, expectedSubject) {
      const config = await discover();
      try {
        return await oidc.fetchUserInfo(config, accessToken, expectedSubject);
      } catch (error) {
        throw classify(error, 'userinfo');
      }
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
      return new TongbanError(ErrorCode.upstreamDenied, {
        status: 403,
        message: 'The national government service platform did not authenticate you.',
        messageZh: '国家政务服务平台未完成身份认证。',
        detail: `${step}: authorization response error ${err.error ?? ''}`,
      });
    }
    if (isTimeout(err) || (err.name === 'TypeError' && /fetch failed/.test(err.message))) {
      return unavailable(`${step}: ${err.name}`, error);
    }
    options.logger.debug('national_validation_failed', { step, reason: err.code ?? err.name });
    return rejected(`${step}: ${err.code ?? err.name}: ${err.message}`, error);
  }
}
