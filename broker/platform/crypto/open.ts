/**
 * Opening the store's protection at start-up, in the one safe order: refuse a store written under
 * the other suite, load the data keys, build the sealer, then prove every key against the store's
 * key checks. A wrong or missing data key stops start-up here, before anything is read or written.
 */
import type { Logger } from '../log.ts';
import type { Store } from '../storage/types.ts';
import { checkCryptoSuite, followStoredDataKeys, loadDataKeys } from './data-keys.ts';
import { checkDataKeys } from './key-checks.ts';
import { createSealer, type Sealer } from './sealing.ts';
import type { CryptoSuiteName } from './suite.ts';

export interface OpenedDataProtection {
  readonly sealer: Sealer;
  /** Development only: writes back the data keys a store lost (undefined with configured keys). */
  readonly storedDataKeys: ReturnType<typeof followStoredDataKeys>;
}

export async function openDataProtection(options: {
  readonly mode: 'development' | 'production';
  readonly suite: CryptoSuiteName;
  readonly configured?: readonly string[] | undefined;
  readonly store: Store;
  readonly logger: Logger;
}): Promise<OpenedDataProtection> {
  const { mode, suite, configured, store, logger } = options;
  await checkCryptoSuite(store, suite);
  const dataKeys = await loadDataKeys({ mode, configured, store, logger });
  // Development data keys live in the store: a record sealed under a key another node generated
  // opens after a fresh read, and a store that lost the keys gets this node's back (docs/privacy.md).
  const storedDataKeys = followStoredDataKeys({ mode, configured, store, keys: dataKeys });
  const sealer = createSealer(suite, dataKeys, storedDataKeys?.reread);
  // A wrong but well-formed data key, or a ring missing a key the store's records name, stops here.
  await checkDataKeys({ store, sealer, keyIds: dataKeys.map((key) => key.id) });
  return { sealer, storedDataKeys };
}
