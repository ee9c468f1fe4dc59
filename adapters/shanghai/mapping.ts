/**
 * 上海 随申办 / 一网通办: the `zwdtsw*` user fields seen in integrations (provinces.md), completed
 * with defined fields for the assurance level and the legal person (法人).
 */
import type { AssuranceLevel } from '../../broker/identity/assurance.ts';
import type { DocumentType, RepresentationRole } from '../../broker/identity/model.ts';
import type { MappingTable } from '../apply.ts';
import { isoChinaTime } from '../formats.ts';

/** `zwdtswAuthLevel`: one step per broker level (L1 未实名, L2 初级实名, L3 高级实名, L4 实人实名实证). */
export const shanghaiAuthLevels = { 1: 'L1', 2: 'L2', 3: 'L3', 4: 'L4' } as const satisfies Record<AssuranceLevel, string>;

/**
 * `zwdtswCertType`: the three-digit document type codes common to Chinese e-government systems
 * (111 居民身份证, 114 军官证, 414 普通护照, 516 港澳居民来往内地通行证, 511 台湾居民来往大陆通行证,
 * 553 外国人永久居留身份证).
 */
export const shanghaiCertTypes = {
  resident_id: '111',
  passport: '414',
  military_officer: '114',
  hk_macao_travel_permit: '516',
  taiwan_travel_permit: '511',
  foreign_permanent_resident: '553',
} as const satisfies Record<DocumentType, string>;

/** `zwdtswAgentRole`. */
export const shanghaiActingRoles = { legal_representative: '法定代表人', agent: '经办人' } as const satisfies Record<RepresentationRole, string>;

export const shanghaiMapping = [
  { claim: 'zwdtswUserId', scope: 'openid', from: 'accountId' },
  { claim: 'zwdtswUserType', scope: 'openid', from: 'subjectKind', values: { natural_person: '个人', legal_person: '法人' } },
  { claim: 'zwdtswAuthLevel', scope: 'openid', from: 'person.assurance', values: shanghaiAuthLevels },
  // Always the natural person, also for 法人: the company has fields of its own below.
  { claim: 'zwdtswName', scope: 'profile', from: 'person.name' },
  { claim: 'zwdtswLinkPhone', scope: 'phone', from: 'person.phone' },
  { claim: 'zwdtswCertType', scope: 'id_number', from: 'person.documentType', values: shanghaiCertTypes },
  { claim: 'zwdtswCertId', scope: 'id_number', from: 'person.documentNumber' },
  { claim: 'zwdtswCorpName', scope: 'legal_person', from: 'acting.name' },
  { claim: 'zwdtswCorpCode', scope: 'legal_person', from: 'acting.creditCode' },
  { claim: 'zwdtswCorpType', scope: 'legal_person', from: 'acting.orgType' },
  { claim: 'zwdtswAgentName', scope: 'legal_person', from: 'person.name' },
  { claim: 'zwdtswAgentRole', scope: 'legal_person', from: 'acting.role', values: shanghaiActingRoles },
  { claim: 'zwdtswAgentAuthLevel', scope: 'legal_person', from: 'person.assurance', values: shanghaiAuthLevels },
  { claim: 'zwdtswAgentScope', scope: 'legal_person', from: 'acting.mandateScope' },
  { claim: 'zwdtswAgentExpireTime', scope: 'legal_person', from: 'acting.mandateExpiresAt', format: isoChinaTime },
  { claim: 'zwdtswAgentLinkPhone', scope: 'legal_person', also: 'phone', from: 'person.phone' },
  { claim: 'zwdtswAgentCertType', scope: 'legal_person', also: 'id_number', from: 'person.documentType', values: shanghaiCertTypes },
  { claim: 'zwdtswAgentCertId', scope: 'legal_person', also: 'id_number', from: 'person.documentNumber' },
] as const satisfies MappingTable;
