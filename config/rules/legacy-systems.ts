/**
 * The rules a legacy service system's description passes, whether it comes from the configuration
 * file (`legacySystems`) or is registered at run time: every problem, each prefixed with its key.
 * The provinces with a legacy protocol come from the one adapter registry.
 */
import { legacyServiceCodePattern } from '../../adapters/legacy.ts';
import { adapterForDivision, isLegacyProvince, legacyProvinces } from '../../adapters/registry.ts';
import { isDivisionCode } from '../../broker/identity/identifiers.ts';
import type { ConfiguredLegacySystem, Mode } from '../defaults.ts';
import { isLoopbackHost } from './urls.ts';

/**
 * What a legacy system may receive beside its user id (`openid` is implied). A system with
 * `legal_person` serves company logins: the person chooses the company, and the ticket answers
 * carry it in the province's own fields (docs/legal-persons.md).
 */
export const legacyScopes = ['profile', 'phone', 'id_number', 'legal_person'] as const;
export type LegacyScope = (typeof legacyScopes)[number];

const minimumPasswordLength = 16;

/**
 * Every problem of a system description, each prefixed with `at` and the field. An empty list
 * means it can be registered.
 */
export function legacySystemProblems(value: unknown, mode: Mode, at = 'legacySystem'): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: must be an object`];
  const s = value as Record<string, unknown>;
  if (!isLegacyProvince(s.province)) problems.push(`${at}.province: must be one of ${legacyProvinces.join(', ')}`);
  if (typeof s.city !== 'string' || !isDivisionCode(s.city)) {
    problems.push(`${at}.city: must be a 6-digit GB/T 2260 division code`);
  } else if (isLegacyProvince(s.province) && adapterForDivision(s.city)?.id !== s.province) {
    problems.push(`${at}.city: ${s.city} is not in ${s.province}`);
  }
  if (typeof s.serviceCode !== 'string' || !legacyServiceCodePattern.test(s.serviceCode)) {
    problems.push(`${at}.serviceCode: 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
  if (typeof s.name !== 'string' || s.name.trim() === '' || s.name.length > 100) problems.push(`${at}.name: required, at most 100 characters`);
  if (typeof s.callbackUrl !== 'string') {
    problems.push(`${at}.callbackUrl: required`);
  } else {
    let url: URL | undefined;
    try {
      url = new URL(s.callbackUrl);
    } catch {
      problems.push(`${at}.callbackUrl: not a URL`);
    }
    if (url) {
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && mode === 'development' && isLoopbackHost(url))) {
        problems.push(`${at}.callbackUrl: must be https (loopback http only in development)`);
      }
      if (s.callbackUrl.includes('#') || url.username || url.password) problems.push(`${at}.callbackUrl: no fragment or credentials`);
    }
  }
  if (typeof s.servicePassword !== 'string' || s.servicePassword.length < minimumPasswordLength
    || s.servicePassword.length > 256 || !/^[\x21-\x7e]+$/.test(s.servicePassword)) {
    problems.push(`${at}.servicePassword: ${minimumPasswordLength}-256 printable ASCII characters`);
  }
  if (!Array.isArray(s.scopes) || s.scopes.some((scope) => scope !== 'openid' && !(legacyScopes as readonly unknown[]).includes(scope))) {
    problems.push(`${at}.scopes: a list of ${legacyScopes.join(', ')}`);
  }
  if (s.suspended !== undefined && typeof s.suspended !== 'boolean') problems.push(`${at}.suspended: must be a boolean`);
  return problems;
}

/**
 * Problems of the `legacySystems` configuration list (config/load.ts), and configured clients
 * that take the bridge clients' reserved ids.
 */
export function configuredLegacySystemsProblems(list: unknown, mode: Mode, clients: unknown = []): string[] {
  const problems: string[] = [];
  if (Array.isArray(clients)) {
    clients.forEach((client: { client_id?: unknown } | null, i) => {
      if (typeof client?.client_id === 'string' && client.client_id.startsWith('tongban-legacy-')) {
        problems.push(`clients[${i}].client_id: the prefix "tongban-legacy-" is reserved for the legacy bridges`);
      }
    });
  }
  if (list === undefined) return problems;
  if (!Array.isArray(list)) return [...problems, 'legacySystems: must be a list'];
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    const at = `legacySystems[${i}]`;
    problems.push(...legacySystemProblems(entry, mode, at));
    const s = entry as Partial<ConfiguredLegacySystem> | null;
    if (s && typeof s.province === 'string' && typeof s.serviceCode === 'string') {
      const key = `${s.province}:${s.serviceCode}`;
      if (seen.has(key)) problems.push(`${at}.serviceCode: duplicate "${s.serviceCode}" in ${s.province}`);
      seen.add(key);
    }
  });
  return problems;
}
