/**
 * Accounts without a register of people: the canonical identity lives in a store record keyed by
 * the keyed-hash account id, with the session's lifetime, and is gone when the session is. It is
 * sealed under the data key (docs/privacy.md): a copy of the store shows no name or ID number, and
 * a record that does not open is an error naming its key id, never a partial identity.
 */
import type { CanonicalIdentity } from '../identity/model.ts';
import { createSealedRecords } from '../platform/crypto/sealed-records.ts';
import { RecordUnsealableError, type Sealer } from '../platform/crypto/sealing.ts';
import type { Logger } from '../platform/log.ts';
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

export function createAccountStore(store: Store, sealer: Sealer, logger?: Logger): AccountStore {
  const sealed = createSealedRecords(store, sealer);
  return {
    async save(accountId, identity, ttlSeconds) {
      await sealed.set(identityKey(accountId), { identity } satisfies IdentityRecord, 'identity', ttlSeconds * 1000);
    },
    async load(accountId) {
      try {
        return (await sealed.get<IdentityRecord>(identityKey(accountId), 'identity'))?.identity;
      } catch (error) {
        if (error instanceof RecordUnsealableError) {
          logger?.error('identity_record_unsealable', { code: error.code, keyId: error.keyId });
        }
        throw error;
      }
    },
    async remove(accountId) {
      await sealed.delete(identityKey(accountId));
    },
  };
}
