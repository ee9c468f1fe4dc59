/**
 * The member registry: every operation on member cities, their apps and the operators, in one
 * object that the operator CLI and the admin API share. Each operation checks its input
 * completely before it writes anything, checks what the actor may do (a province operator stays
 * within its province), and records the change in the audit trail without secrets. The
 * operations live beside their record type (cities, apps, operators, registration, audit).
 */
import type { Mode } from '../../config/defaults.ts';
import { createAppOperations, type AppOperations } from './apps.ts';
import { createAuditOperations, type AuditOperations } from './audit.ts';
import type { ClientIdNamespace } from './client-ids.ts';
import { createCityOperations, type CityOperations } from './cities.ts';
import { createMemberContext, type MemberRegistryOptions } from './context.ts';
import { createOperatorOperations, type OperatorOperations } from './operators.ts';
import type { MemberRecords } from './records.ts';
import { createRegistrationOperations, type RegistrationOperations } from './registration.ts';
import type { SecretVerifier } from '../platform/crypto/client-secrets.ts';

export interface MemberRegistry extends CityOperations, AppOperations, AuditOperations, RegistrationOperations, OperatorOperations {
  /** The member records in the store. */
  readonly records: MemberRecords;
  readonly secrets: SecretVerifier;
  readonly mode: Mode;
  /** Client ids declared in the configuration file (served by oidc-provider's static list). */
  readonly configuredClientIds: ReadonlySet<string>;
  /** The one client-id namespace (apps, services, configured, internal): resource servers take their ids in it. */
  readonly clientIds: ClientIdNamespace;
  /** OIDC Core 8.1: throws unless the app's `sector_identifier_uri` lists every redirect URI. */
  verifySector(app: { readonly sector_identifier_uri?: string; readonly redirect_uris: readonly string[] }): Promise<void>;
}

export function createMemberRegistry(options: MemberRegistryOptions): MemberRegistry {
  const context = createMemberContext(options);
  return {
    records: context.records,
    secrets: context.secrets,
    mode: context.mode,
    configuredClientIds: new Set(context.configured.keys()),
    clientIds: context.clientIds,
    verifySector: context.verifySector,
    ...createCityOperations(context),
    ...createAppOperations(context),
    ...createAuditOperations(context),
    ...createRegistrationOperations(context),
    ...createOperatorOperations(context),
  };
}
