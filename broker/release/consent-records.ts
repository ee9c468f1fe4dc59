/**
 * The person's answers on sensitive items, remembered per app across sessions (PIPL Art. 29): the
 * oidc-provider Grant ends with its session, so a new sign-in would ask again. One record per
 * (account id, client id) — the account id is the keyed derivation of the national subject, never a
 * clear identifier — holding scope names only (allowed, refused) and a consent id, so it needs no
 * sealing. Each change of the choice gets a new id: a release in the audit trail names the exact
 * choice it stood on. Kept one year from the last answer (longer than any grant lives).
 */
import { randomUUID } from 'node:crypto';
import type { Grant } from 'oidc-provider';
import type { Store } from '../platform/storage/types.ts';
import { consentTo, refuse, sensitiveAmong, type SensitiveScope } from './sensitive.ts';

/** One year: a choice outlives every session and grant (config.ttl.grant is hours), and is asked again after. */
export const consentRecordTtlSeconds = 365 * 24 * 3600;

export interface ConsentRecord {
  /** Changes with every change of the choice. */
  readonly id: string;
  readonly allowed: readonly SensitiveScope[];
  readonly refused: readonly SensitiveScope[];
  /** Epoch seconds of the last answer. */
  readonly at: number;
}

export interface ConsentRecords {
  find(accountId: string, clientId: string): Promise<ConsentRecord | undefined>;
  /** Adds the person's answers on these items to the app's record (other items keep theirs). */
  decide(accountId: string, clientId: string, answers: { allowed: readonly string[]; refused: readonly string[] }): Promise<ConsentRecord>;
  /** Withdrawal (撤回): the allowed items become undecided again, so the next sign-in asks. */
  withdraw(accountId: string, clientId: string, items: readonly string[]): Promise<ConsentRecord | undefined>;
}

const consentKey = (accountId: string, clientId: string) => `consent:${accountId}:${clientId}`;

export function createConsentRecords(options: { store: Store; ttlSeconds?: number; now?: () => number }): ConsentRecords {
  const { store } = options;
  const ttlMs = (options.ttlSeconds ?? consentRecordTtlSeconds) * 1000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const find = (accountId: string, clientId: string) => store.get<ConsentRecord>(consentKey(accountId, clientId));
  const save = async (accountId: string, clientId: string, allowed: Iterable<string>, refused: Iterable<string>) => {
    const record: ConsentRecord = { id: randomUUID(), allowed: sensitiveAmong(allowed), refused: sensitiveAmong(refused), at: now() };
    await store.set(consentKey(accountId, clientId), record, ttlMs);
    return record;
  };
  return {
    find,
    async decide(accountId, clientId, { allowed, refused }) {
      const before = await find(accountId, clientId);
      const answered = new Set([...allowed, ...refused]);
      const kept = (items: readonly string[] | undefined) => (items ?? []).filter((s) => !answered.has(s));
      return save(accountId, clientId, [...kept(before?.allowed), ...allowed], [...kept(before?.refused), ...refused]);
    },
    async withdraw(accountId, clientId, items) {
      const before = await find(accountId, clientId);
      if (!before) return undefined;
      const withdrawn = new Set(items);
      return save(accountId, clientId, before.allowed.filter((s) => !withdrawn.has(s)), before.refused);
    },
  };
}

/** The remembered answers put into a grant: a new session's grant starts from the person's choice. */
export function applyConsentRecord(grant: Grant, record: ConsentRecord | undefined): void {
  if (!record) return;
  consentTo(grant, record.allowed);
  refuse(grant, record.refused);
}
