/**
 * TEMPLATE for a province without a published dialect: copy this folder, replace the `xx_` prefix
 * with the platform's own, and keep or drop rules. Each rule releases one claim:
 *
 * - `claim`: the name in the dialect (never a standard OpenID Connect name: see `reservedClaimNames`)
 * - `scope`: the scope it belongs to; `also`: a second scope it needs as well
 * - `from`: the canonical fact it carries (`Sources` in ../apply.ts)
 * - `values`: dialect codes for the fact's values (exhaustive for closed sets; missing = not released)
 * - `format`: a pure formatter (../formats.ts) when the dialect writes a value differently
 * - `onlyFor`: only when the person acts in that role
 *
 * The minimum under `legal_person`, in every dialect: credit code, organisation name, acting role,
 * the mandate's expiry for agents, and the acting person's own assurance level.
 */
import type { AssuranceLevel } from '../../broker/identity/assurance.ts';
import type { MappingTable } from '../apply.ts';

/** The province's assurance scale for each broker level (lowest first, never decreasing). */
export const templateAuthLevels = { 1: 'none', 2: 'low', 3: 'substantial', 4: 'high' } as const satisfies Record<AssuranceLevel, string>;

export const templateMapping = [
  { claim: 'xx_user_id', scope: 'openid', from: 'accountId' },
  { claim: 'xx_user_type', scope: 'openid', from: 'subjectKind', values: { natural_person: 'natural', legal_person: 'legal' } },
  { claim: 'xx_auth_level', scope: 'openid', from: 'person.assurance', values: templateAuthLevels },
  { claim: 'xx_name', scope: 'profile', from: 'person.name' },
  { claim: 'xx_gender', scope: 'profile', from: 'person.sex', values: { male: 'M', female: 'F' } },
  { claim: 'xx_birth_date', scope: 'profile', from: 'person.birthDate' },
  { claim: 'xx_mobile', scope: 'phone', from: 'person.phone' },
  // The canonical document type names serve as codes where the province has none of its own.
  { claim: 'xx_cert_type', scope: 'id_number', from: 'person.documentType' },
  { claim: 'xx_cert_no', scope: 'id_number', from: 'person.documentNumber' },
  { claim: 'xx_org_name', scope: 'legal_person', from: 'acting.name' },
  { claim: 'xx_org_code', scope: 'legal_person', from: 'acting.creditCode' },
  { claim: 'xx_org_type', scope: 'legal_person', from: 'acting.orgType' },
  { claim: 'xx_agent_name', scope: 'legal_person', from: 'person.name' },
  { claim: 'xx_agent_role', scope: 'legal_person', from: 'acting.role' },
  { claim: 'xx_agent_auth_level', scope: 'legal_person', from: 'person.assurance', values: templateAuthLevels },
  { claim: 'xx_mandate_scope', scope: 'legal_person', from: 'acting.mandateScope' },
  { claim: 'xx_mandate_expires_at', scope: 'legal_person', from: 'acting.mandateExpiresAt' },
  { claim: 'xx_agent_mobile', scope: 'legal_person', also: 'phone', from: 'person.phone' },
  { claim: 'xx_agent_cert_type', scope: 'legal_person', also: 'id_number', from: 'person.documentType' },
  { claim: 'xx_agent_cert_no', scope: 'legal_person', also: 'id_number', from: 'person.documentNumber' },
] as const satisfies MappingTable;
