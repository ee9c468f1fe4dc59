/**
 * Tests look at sealed store records the way the broker does: with the development data keys the
 * broker generated into the store, through the same record modules.
 */
import { createLegalPersonRecords, type LegalPersonRecords } from '../../broker/legal-person/records.ts';
import { loadDataKeys } from '../../broker/platform/crypto/data-keys.ts';
import { createSealer } from '../../broker/platform/crypto/sealing.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

/** The legal-person records of a development broker's store. */
export async function legalPersonRecordsOf(store: Store): Promise<LegalPersonRecords> {
  const keys = await loadDataKeys({ mode: 'development', store, logger: createMemoryLogger() });
  return createLegalPersonRecords(store, createSealer('international', keys));
}
