/**
 * Keyed derivations: the broker's account id, pairwise subjects per province and provincial user
 * ids are HMACs of the national subject under the deployment's secret. Stable without any register
 * of people, and never reversible to (or derived from) an ID number.
 */
import { createHmac } from 'node:crypto';

export type Derive = (sector: string, value: string) => string;

export function createDerive(secret: string): Derive {
  return (sector, value) => createHmac('sha256', secret).update(sector).update('\u0000').update(value).digest('base64url');
}

export function accountIdOf(derive: Derive, nationalSubject: string): string {
  return derive('tongban:account', nationalSubject);
}

/** Pairwise subject for a province sector (all apps of a province share it). */
export function pairwiseSubject(derive: Derive, sector: string, accountId: string): string {
  return derive(`tongban:sub:${sector}`, accountId);
}
