/**
 * What assurance an authorization request demands: `acr_values` (a list of acceptable levels; on
 * our ordered scale the lowest of them is the minimum) or an `acr` member of the claims parameter.
 */
import { errors } from 'oidc-provider';
import { levelOfAcr, type AssuranceLevel } from '../identity/assurance.ts';

interface AcrRequest { value?: unknown; values?: unknown; essential?: unknown }

function levelsOf(values: readonly unknown[]): AssuranceLevel[] {
  return values.map((value) => {
    const level = typeof value === 'string' ? levelOfAcr(value) : undefined;
    if (level === undefined) throw new errors.InvalidRequest('acr_values names an unknown assurance level');
    return level;
  });
}

/** The minimum level requested, or undefined when the request states none. */
export function requestedLevel(params: Record<string, unknown>, claims: unknown): AssuranceLevel | undefined {
  const candidates: AssuranceLevel[] = [];
  if (typeof params.acr_values === 'string' && params.acr_values.trim() !== '') {
    candidates.push(Math.min(...levelsOf(params.acr_values.trim().split(/\s+/))) as AssuranceLevel);
  }
  const acr = (claims as { id_token?: { acr?: AcrRequest | null } } | undefined)?.id_token?.acr;
  if (acr && typeof acr === 'object') {
    const list = acr.value !== undefined ? [acr.value] : Array.isArray(acr.values) ? acr.values : [];
    if (list.length > 0) candidates.push(Math.min(...levelsOf(list)) as AssuranceLevel);
  }
  return candidates.length ? (Math.max(...candidates) as AssuranceLevel) : undefined;
}
