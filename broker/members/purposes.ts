/**
 * Sensitive items and the purpose an app states for each (PIPL Art. 28-30: separate consent names
 * the purpose). The purposes are registered with the app, checked here, stored on its record and
 * read by the consent page through `appPurposes`. Granting the `id_number` scope itself is a
 * federation decision (`assertMayGrantScopes`).
 */
import { licenceScopes } from '../licences/types.ts';
import type { Actor } from './types.ts';
import { RegistryError, RegistryErrorCode, type Problem } from './errors.ts';
import type { MemberRecords } from './records.ts';

/** Scopes that release a sensitive item: the ID number, the phone, the company (credit code). */
export const sensitiveScopes: readonly string[] = ['id_number', 'phone', 'legal_person', ...licenceScopes];
/** Scopes only a federation operator may grant to an app or to a city's registrations (electronic licences too). */
export const federationScopes: readonly string[] = ['id_number', ...licenceScopes];

/** What an app stated, per sensitive scope: `{ id_number: "办理公积金提取时核验身份" }`. */
export type AppPurposes = Readonly<Record<string, string>>;

const maxPurposeLength = 200;

/** Checks `purposes` against the app's scopes; every problem is pushed, the normalised value returned. */
export function checkPurposes(value: unknown, scopes: readonly string[], problems: Problem[]): AppPurposes | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ field: 'purposes', code: RegistryErrorCode.invalidAppMetadata, message: `must be an object naming a purpose per sensitive item (${sensitiveScopes.join(', ')})` });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [item, purpose] of Object.entries(value)) {
    if (!sensitiveScopes.includes(item)) {
      problems.push({ field: `purposes.${item}`, code: RegistryErrorCode.invalidAppMetadata, message: `not a sensitive item; purposes are stated for ${sensitiveScopes.join(', ')}` });
    } else if (!scopes.includes(item)) {
      problems.push({ field: `purposes.${item}`, code: RegistryErrorCode.invalidAppMetadata, message: `the app does not ask for the ${item} scope` });
    } else if (typeof purpose !== 'string' || purpose.trim() === '' || purpose.length > maxPurposeLength || /\p{Cc}/u.test(purpose)) {
      problems.push({ field: `purposes.${item}`, code: RegistryErrorCode.invalidAppMetadata, message: `1-${maxPurposeLength} printable characters saying why the app needs it` });
    } else {
      out[item] = purpose.trim();
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Throws 403 unless `actor` may grant `scopes`: `id_number` (to an app, or into a city's
 * registration scopes) only by a federation operator or the CLI, never a province operator.
 */
export function assertMayGrantScopes(actor: Actor, scopes: readonly string[], what: string): void {
  const reserved = scopes.filter((s) => federationScopes.includes(s));
  if (reserved.length === 0) return;
  const federation = actor.kind === 'cli' || (actor.kind === 'operator' && actor.role === 'federation');
  if (!federation) {
    const who = actor.kind === 'operator' ? `province operator ${actor.id} (${actor.province ?? '?'})` : actor.kind;
    throw new RegistryError(RegistryErrorCode.forbidden, `${who} may not grant ${reserved.join(', ')} to ${what}: entitlement to ID numbers is a federation decision; ask a federation operator`);
  }
}

/**
 * The purposes an app registered for its sensitive items, by client id (`{}` when none or no such
 * app). For the consent page: it names each item with the purpose the app gave.
 */
export async function appPurposes(records: MemberRecords, clientId: string): Promise<AppPurposes> {
  const app = await records.app(clientId);
  return app?.purposes ?? {};
}
