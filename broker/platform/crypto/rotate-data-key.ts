/**
 * `npm run keys -- rotate-data-key`: in development, adds a new data key in front of the store's
 * keys; in production the operator has put the new key first in `keys.dataKeys` (TONGBAN_DATA_KEY)
 * already. Either way every sealed record is then re-sealed under the first key, keeping its
 * remaining lifetime, so the older keys can be retired afterwards.
 */
import type { TongbanConfig } from '../../../config/defaults.ts';
import { createLogger } from '../log.ts';
import type { Store } from '../storage/types.ts';
import { addStoredDataKey, checkCryptoSuite, loadDataKeys } from './data-keys.ts';
import { checkDataKeys } from './key-checks.ts';
import { createSealedRecords } from './sealed-records.ts';
import { createSealer } from './sealing.ts';

export interface DataKeyRotation {
  readonly keyId: string;
  readonly added: boolean;
  readonly resealed: number;
  readonly current: number;
  readonly gone: number;
}

export async function rotateDataKey(config: Pick<TongbanConfig, 'mode' | 'keys' | 'crypto'>, store: Store): Promise<DataKeyRotation> {
  const suite = config.crypto?.suite ?? 'international';
  await checkCryptoSuite(store, suite);
  const configured = config.keys.dataKeys;
  const logger = createLogger({ level: 'error', write: () => undefined });
  const keys = configured?.length
    ? await loadDataKeys({ mode: config.mode, configured, store, logger })
    : await loadDataKeys({ mode: config.mode, store, logger }).then(() => addStoredDataKey(store));
  const sealer = createSealer(suite, keys);
  // A wrong key, or one missing that records still stand under, would strand records: refuse first.
  await checkDataKeys({ store, sealer, keyIds: keys.map((key) => key.id) });
  const counts = await createSealedRecords(store, sealer).reseal();
  return { keyId: sealer.sealingKeyId, added: !configured?.length, ...counts };
}
