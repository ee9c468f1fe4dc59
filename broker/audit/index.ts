/** The tamper-evident audit trail: entries, appending, listing and verification. */
export { auditEntryTypes, canonicalJson, checkpointMessage, entryHash, genesisHash, type AuditEntry, type AuditEntryType } from './entry.ts';
export { createAuditTrail, type AuditFilter, type AuditRecord, type AuditTrail, type AuditTrailOptions } from './trail.ts';
export { openAuditTrail, type OpenedAuditTrail } from './open.ts';
export { verifyChain, type ChainVerdict, type VerifyOptions } from './verify.ts';
export { positionId, storeAuditTrail } from './store-trail.ts';
