/**
 * Sensitive personal information (PIPL Art. 28–29) needs its own consent, first-party apps
 * included: the ID number (`id_number`), the phone (`phone`) and the company credit code (part of
 * `legal_person`). The oidc-provider Grant of an app and a person carries that consent while the
 * session lives: a refused or withdrawn item is a rejected scope, which refresh and userinfo filter
 * out. The answers outlive the session in the app's consent record (consent-records.ts).
 */
import type { Client, Grant } from 'oidc-provider';
import { licenceLabels, licenceScopes, type LicenceScope } from '../licences/types.ts';

/** Each electronic licence (`licence:<type>`, broker/licences) is a sensitive item of its own. */
export const sensitiveScopes = ['id_number', 'phone', 'legal_person', ...licenceScopes] as const;
export type SensitiveScope = 'id_number' | 'phone' | 'legal_person' | LicenceScope;

export const sensitiveLabels: Record<SensitiveScope, { readonly zh: string; readonly en: string }> = {
  id_number: { zh: '证件类型和证件号码（身份证号）', en: 'document type and number (ID number)' },
  phone: { zh: '手机号码', en: 'mobile phone number' },
  legal_person: { zh: '您所代表的企业信息，含统一社会信用代码', en: 'the company you act for, with its unified social credit code' },
  ...licenceLabels,
};

export function isSensitive(scope: string): scope is SensitiveScope {
  return (sensitiveScopes as readonly string[]).includes(scope);
}

/** The sensitive scopes among `scopes`, in the fixed order above. */
export function sensitiveAmong(scopes: Iterable<string>): SensitiveScope[] {
  const wanted = new Set(scopes);
  return sensitiveScopes.filter((s) => wanted.has(s));
}

/** The purpose an app registered for a scope (`purposes` client metadata), if it stated one. */
export function purposeOf(client: Client | undefined, scope: string): string | undefined {
  const purposes = (client as unknown as { purposes?: unknown } | undefined)?.purposes;
  if (!purposes || typeof purposes !== 'object') return undefined;
  const text = (purposes as Record<string, unknown>)[scope];
  return typeof text === 'string' && text.trim() ? text : undefined;
}

/** Whether `purposes` client metadata is well formed: an object of scope → non-empty text. */
export function isPurposes(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((text) => typeof text === 'string' && text.length > 0 && text.length <= 500);
}

/** Sensitive scopes the grant covers (granted and not rejected). */
export function grantedSensitive(grant: Grant): SensitiveScope[] {
  return sensitiveAmong(grant.getOIDCScope().split(' '));
}

/** Consent given for `scopes`: granted, and no longer rejected if they were refused before. */
export function consentTo(grant: Grant, scopes: readonly string[]): void {
  if (!scopes.length) return;
  grant.addOIDCScope(scopes.join(' '));
  const rejected = (grant as unknown as { rejected?: { openid?: { scope?: string } } }).rejected;
  if (rejected?.openid?.scope) {
    const given = new Set(scopes);
    rejected.openid.scope = rejected.openid.scope.split(' ').filter((s) => !given.has(s)).join(' ');
  }
}

/** Refusal or withdrawal: the scopes become rejected, so no later token or userinfo carries them. */
export function refuse(grant: Grant, scopes: readonly string[]): void {
  if (scopes.length) grant.rejectOIDCScope(scopes.join(' '));
}

/** The answers recorded in one grant of an app, carried to its next grant (another company chosen). */
export function carrySensitiveConsent(from: Grant, to: Grant): void {
  consentTo(to, grantedSensitive(from));
  refuse(to, sensitiveAmong(from.getRejectedOIDCScope().split(' ')));
}
