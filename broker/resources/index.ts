/**
 * Resource servers (the member cities' APIs): their records, the access tokens issued for them,
 * introspection by the services themselves and the token exchange along their routes.
 */
export { createResourceServers, withServiceClientsOf } from './servers.ts';
export type { ResourceServers, ResourceServersOptions } from './servers.ts';
export type { AccessTokenFormat, ConfiguredResourceServer, ExchangeRoute, ResourceServerInput, ResourceServerRecord } from './types.ts';
export type { ResourceServerRecords, RegistrationResult, RecordChangeOptions } from './records.ts';
export { createResourceServerRecords, resourceServerProblems, serviceClientMetadata, tokenExchangeGrantType, ResourceErrorCode } from './records.ts';
export { createAuditTrail, type AuditEntry, type AuditTrail } from './audit.ts';
export { tokenTypes } from './exchange.ts';
