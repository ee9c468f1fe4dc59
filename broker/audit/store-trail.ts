/**
 * The store's own audit trail, opened at first use: where no trail is handed in (the CLIs, tests),
 * every writer still lands in the same chain, under the suite the store was written under. The
 * member registry and the resource servers keep their read APIs over it (members/audit-trail.ts,
 * resources/audit.ts); `details.area` says whose an entry is.
 */
import { checkpointSigner, loadStoredCheckpointKey } from '../platform/crypto/checkpoint-keys.ts';
import { cryptoSuite, type CryptoSuiteName } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import type { AuditEntry } from './entry.ts';
import { createAuditTrail, defaultCheckpointEvery, type AuditTrail } from './trail.ts';

/** The audit trail of `store`, opened at first use under the suite the store was written under. */
export function storeAuditTrail(store: Store): AuditTrail {
  let opening: Promise<AuditTrail> | undefined;
  const open = () => (opening ??= (async () => {
    const suite = (await store.get<{ suite: CryptoSuiteName }>('crypto:suite'))?.suite ?? 'international';
    return createAuditTrail({ store, suite: cryptoSuite(suite), signer: checkpointSigner(await loadStoredCheckpointKey(store, suite)) });
  })());
  return {
    checkpointEvery: defaultCheckpointEvery,
    append: async (record) => (await open()).append(record),
    list: async (filter) => (await open()).list(filter),
    read: async () => (await open()).read(),
    verify: async (options) => (await open()).verify(options),
  };
}

/** An entry's position as a zero-padded id, so ids sort in order. */
export const positionId = (entry: AuditEntry): string => String(entry.seq).padStart(12, '0');

