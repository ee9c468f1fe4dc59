/**
 * The 杭州市民中心 portal that many tests sign in with: one definition of the app, each test
 * giving only what it needs beside it (its scopes, grant types, logout URIs).
 */
import type { ConfiguredClient } from '../../config/defaults.ts';

/** The first-party portal of 杭州 (330100), with a test's own settings over it. */
export function hangzhouPortal(settings: Partial<ConfiguredClient> = {}): ConfiguredClient {
  return {
    client_id: 'hangzhou-portal',
    client_secret: 'hangzhou-portal-secret',
    client_name: '杭州市民中心',
    city: '330100',
    redirect_uris: ['http://127.0.0.1:9/callback'],
    first_party: true,
    ...settings,
  };
}

/** The portal's sign-out return and refresh tokens, for tests of a whole session. */
export const withSessions: Partial<ConfiguredClient> = {
  post_logout_redirect_uris: ['http://127.0.0.1:9/logged-out'],
  grant_types: ['authorization_code', 'refresh_token'],
};
