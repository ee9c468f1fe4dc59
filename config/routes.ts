/**
 * The broker's route table: every path it serves, written once, so handlers, links, redirects and
 * the documentation never disagree. Re-exported by config/defaults.ts beside the other defaults.
 */

/**
 * Every path the broker serves, written once (as oidc-provider's `defaults.js` documents `routes`).
 * Fixed, not configurable: clients, the national platform and provincial systems have these
 * registered. Handlers, links and redirects read them from here.
 */
export const routes = {
  /** oidc-provider's endpoints (its own defaults, passed to it as `routes`). */
  oidc: {
    authorization: '/auth',
    backchannel_authentication: '/backchannel',
    code_verification: '/device',
    challenge: '/challenge',
    device_authorization: '/device/auth',
    end_session: '/session/end',
    introspection: '/token/introspection',
    jwks: '/jwks',
    pushed_authorization_request: '/request',
    registration: '/reg',
    revocation: '/token/revocation',
    token: '/token',
    userinfo: '/me',
    credential: '/credential',
  },
  /** The login pages of one interaction (`:uid` is oidc-provider's interaction id). */
  interaction: {
    /** Where oidc-provider sends the browser; the broker decides the next step. */
    start: '/interaction/:uid',
    consent: '/interaction/:uid/consent',
    /** Leaves for the national platform (through a return from a legal-person choice). */
    national: '/interaction/:uid/national',
    /** Legal-person logins: the choice of the company to act for. */
    company: '/interaction/:uid/company',
  },
  /** The national platform returns here (registered there as the broker's redirect URI). */
  nationalCallback: '/national/callback',
  /** The national platform's back-channel logout token arrives here. */
  nationalBackchannelLogout: '/national/backchannel-logout',
  /** The national platform sends the browser back here after its logout. */
  nationalLoggedOut: '/national/logged-out',
  /** A person's own page: what was released to which service. */
  account: '/account',
  /** The language and 适老化 display switches of every page (broker/platform/i18n/choose.ts). */
  preferences: '/preferences',
  /** Electronic licences an app was granted, fetched with its access token (broker/licences, docs/licences.md). */
  licences: '/licences',
  /** Legacy logins come back here from the authorization endpoint. */
  legacyReturn: '/legacy/return',
  /** The operators' admin API (prefix of every admin path). */
  admin: '/admin',
  /** Liveness and readiness probes. */
  healthz: '/healthz',
  readyz: '/readyz',
} as const;

/** A route with its `:uid` filled (encoded): `routePath(routes.interaction.company, uid)`. */
export function routePath(route: string, uid: string): string {
  return route.replace(':uid', encodeURIComponent(uid));
}
