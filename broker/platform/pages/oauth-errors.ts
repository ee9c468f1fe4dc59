/**
 * People-facing wording for the OAuth errors oidc-provider renders as pages. The wording itself
 * lives in the error catalogue; this maps an oidc-provider error (and its fixed protocol
 * description) onto a catalogue entry.
 */
import { messageOf, type ErrorKey } from '../error-catalogue.ts';

/** The OAuth errors that have people-facing wording; any other reads as `request_failed`. */
const oauthErrors: ReadonlySet<string> = new Set<ErrorKey>([
  'invalid_client', 'invalid_redirect_uri', 'invalid_request', 'invalid_scope', 'unauthorized_client', 'access_denied',
  'login_required', 'session_not_found', 'temporarily_unavailable', 'unmet_authentication_requirements', 'server_error',
]);

function isOAuthError(value: string): value is ErrorKey {
  return oauthErrors.has(value);
}

/**
 * `message` (for a program's JSON) carries oidc-provider's description; a page shows `messageEn` or
 * `messageZh`, with the description apart as `technical`.
 */
export function describeOAuthError(error: string, description?: string): { code: string; message: string; messageZh: string; messageEn: string; technical?: string } {
  const code = error === 'invalid_request' && description?.includes('interaction') ? 'session_not_found' : error;
  const key: ErrorKey = isOAuthError(code) ? code : isOAuthError(error) ? error : 'request_failed';
  // oidc-provider's descriptions are fixed protocol strings (never personal data) and help a developer.
  const detail = description && error !== 'server_error' ? ` (${description})` : '';
  const messageEn = messageOf(key, 'en');
  return { code, messageZh: messageOf(key, 'zh-CN'), messageEn, message: `${messageEn}${detail}`, ...(detail ? { technical: description } : {}) };
}
