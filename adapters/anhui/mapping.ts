/**
 * 安徽 皖事通: no public interface was found, so this dialect is defined here, made from
 * ../_template alone (`wst_` prefix, snake_case, canonical document type names as codes, mandate
 * expiry in epoch seconds). Documented in ../README.md.
 */
import type { AssuranceLevel } from '../../broker/identity/assurance.ts';
import type { MappingTable } from '../apply.ts';

/** `wst_auth_level`, on the eIDAS words: none (未实名), low, substantial, high. */
export const anhuiAuthLevels = { 1: 'none', 2: 'low', 3: 'substantial', 4: 'high' } as const satisfies Record<AssuranceLevel, string>;

export const anhuiMapping = [
  { claim: 'wst_user_id', scope: 'openid', from: 'accountId' },
  { claim: 'wst_user_type', scope: 'openid', from: 'subjectKind', values: { natural_person: 'natural', legal_person: 'legal' } },
  { claim: 'wst_auth_level', scope: 'openid', from: 'person.assurance', values: anhuiAuthLevels },
  { claim: 'wst_name', scope: 'profile', from: 'person.name' },
  { claim: 'wst_gender', scope: 'profile', from: 'person.sex', values: { male: 'M', female: 'F' } },
  { claim: 'wst_birth_date', scope: 'profile', from: 'person.birthDate' },
  { claim: 'wst_mobile', scope: 'phone', from: 'person.phone' },
  // The canonical document type names serve as codes where the province has none of its own.
  { claim: 'wst_cert_type', scope: 'id_number', from: 'person.documentType' },
  { claim: 'wst_cert_no', scope: 'id_number', from: 'person.documentNumber' },
  { claim: 'wst_org_name', scope: 'legal_person', from: 'acting.name' },
  { claim: 'wst_org_code', scope: 'legal_person', from: 'acting.creditCode' },
  { claim: 'wst_org_type', scope: 'legal_person', from: 'acting.orgType' },
  { claim: 'wst_agent_name', scope: 'legal_person', from: 'person.name' },
  { claim: 'wst_agent_role', scope: 'legal_person', from: 'acting.role' },
  { claim: 'wst_agent_auth_level', scope: 'legal_person', from: 'person.assurance', values: anhuiAuthLevels },
  { claim: 'wst_mandate_scope', scope: 'legal_person', from: 'acting.mandateScope' },
  { claim: 'wst_mandate_expires_at', scope: 'legal_person', from: 'acting.mandateExpiresAt' },
  { claim: 'wst_agent_mobile', scope: 'legal_person', also: 'phone', from: 'person.phone' },
  { claim: 'wst_agent_cert_type', scope: 'legal_person', also: 'id_number', from: 'person.documentType' },
  { claim: 'wst_agent_cert_no', scope: 'legal_person', also: 'id_number', from: 'person.documentNumber' },
] as const satisfies MappingTable;
