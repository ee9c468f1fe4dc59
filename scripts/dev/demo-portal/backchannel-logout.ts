/**
 * The demo portal's back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0 §2.6), as
 * any portal would write it with jose: the logout token is verified against the broker's JWKS
 * (`iss`, `aud`, `typ`, `iat`/`exp`, the logout event, no `nonce`, `sub` and/or `sid`, `jti` once).
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { tunables } from '../../../config/defaults.ts';

const logoutEvent = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenCheckOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly jwksUri: string;
}

/** Whom a valid logout token signs out. */
export interface LoggedOut {
  readonly sub?: string;
  readonly sid?: string;
}

export type CheckLogoutToken = (token: string) => Promise<LoggedOut>;

export function createLogoutTokenCheck(options: LogoutTokenCheckOptions): CheckLogoutToken {
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUri));
  // jti values seen, with their expiry (epoch seconds): a replay is refused.
  const seen = new Map<string, number>();
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      audience: options.clientId,
      typ: 'logout+jwt',
      maxTokenAge: '5m',
      clockTolerance: tunables.clockToleranceSeconds,
      requiredClaims: ['iat', 'exp', 'jti'],
    });
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events[logoutEvent] !== 'object') throw new Error('not a logout token');
    if ('nonce' in payload) throw new Error('a logout token carries no nonce');
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    if (!payload.sub && !sid) throw new Error('neither sub nor sid');
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of seen) if (exp < now) seen.delete(jti);
    if (seen.has(payload.jti!)) throw new Error('replayed');
    seen.set(payload.jti!, payload.exp!);
    return { ...(payload.sub ? { sub: payload.sub } : {}), ...(sid ? { sid } : {}) };
  };
}
