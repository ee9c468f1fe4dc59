/** The broker's cryptographic building blocks: suites, sealing, data keys, checkpoint signatures. */
export { cryptoSuite, cryptoSuiteNames, dataKeyBytes, type CryptoSuite, type CryptoSuiteName } from './suite.ts';
export { createSealer, isSealed, RecordUnsealableError, type Sealer } from './sealing.ts';
export { createSealedRecords, type SealedRecords } from './sealed-records.ts';
export {
  addStoredDataKey, checkCryptoSuite, loadDataKeys, newDataKeyEntry, parseDataKeys, followStoredDataKeys, readStoredDataKeys, restoreDataKeys, type DataKey,
} from './data-keys.ts';
export {
  checkpointSigner, loadCheckpointKeyFile, loadStoredCheckpointKey, newCheckpointKey, sm2UserId, verifyCheckpointSignature,
  type CheckpointKey, type CheckpointSigner,
} from './checkpoint-keys.ts';
export { checkDataKeys, keyCheckWriter } from './key-checks.ts';
export { storeIdKeyOf } from './store-id-key.ts';
