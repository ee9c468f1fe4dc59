/**
 * Keyed derivations: the broker's account id, pairwise subjects per province and provincial user
 * ids are HMACs of the national subject under the deployment's secret. Stable without any register
 * of people, and never reversible to (or derived from) an ID number.
 */
import { createHmac } from 'node:crypto';

export type Derive = (sector: string, value: string) => string;

/**
 * Remembers up to `remembered` recent derivations: every userinfo, refresh and ID token derives the
 * same pairwise subject and provincial id again (each HMAC sets up its key anew). `algorithm` is
 * the HMAC's hash: `sm3` under the 国密 suite (crypto.suite "gm").
 */
export function createDerive(secret: string, remembered = 10_000, algorithm: 'sha256' | 'sm3' = 'sha256'): Derive {
  const recent = new Map<string, string>();
  return (sector, value) => {
    const input = `${sector}\u0000${value}`;
    let derived = recent.get(input);
    if (derived === undefined) {
      derived = createHmac(algorithm, secret).update(sector).update('\u0000').update(value).digest('base64url');
      if (recent.size >= remembered) recent.delete(recent.keys().next().value as string);
      recent.set(input, derived);
    }
    return derived;
  };
}

export function accountIdOf(derive: Derive, nationalSubject: string): string {
  return derive('tongban:account', nationalSubject);
}

/** Pairwise subject for a province sector (all apps of a province share it). */
export function pairwiseSubject(derive: Derive, sector: string, accountId: string): string {
  return derive(`tongban:sub:${sector}`, accountId);
}
