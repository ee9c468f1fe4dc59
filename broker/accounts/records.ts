/**
 * Accounts without a register of people: the canonical identity lives in a store record keyed by
 * the keyed-hash account id, with the session's lifetime, and is gone when the session is.
 */
import type { CanonicalIdentity } from '../identity/model.ts';
import type { Store } from '../platform/storage/types.ts';

const identityKey = (accountId: string) => `identity:${accountId}`;

export interface IdentityRecord {
  readonly identity: CanonicalIdentity;
}

export interface AccountStore {
  save(accountId: string, identity: CanonicalIdentity, ttlSeconds: number): Promise<void>;
  load(accountId: string): Promise<CanonicalIdentity | undefined>;
  remove(accountId: string): Promise<void>;
}

export function createAccountStore(store: Store): AccountStore {
  return {
    async save(accountId, identity, ttlSeconds) {
      await store.set(identityKey(accountId), { identity } satisfies IdentityRecord, ttlSeconds * 1000);
    },
    async load(accountId) {
      return (await store.get<IdentityRecord>(identityKey(accountId)))?.identity;
    },
    async remove(accountId) {
      await store.delete(identityKey(accountId));
    },
  };
}
