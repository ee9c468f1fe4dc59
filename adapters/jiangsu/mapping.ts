/**
 * 江苏 江苏政务服务网: `papersNumber` / `papersType` as on its registration forms (provinces.md); the
 * other fields, the assurance scale and the codes are defined here in the same camelCase style.
 */
import type { AssuranceLevel } from '../../broker/identity/assurance.ts';
import type { DocumentType, RepresentationRole } from '../../broker/identity/model.ts';
import type { MappingTable } from '../apply.ts';
import { commaList, compactDate, plainChinaTime } from '../formats.ts';

/**
 * `authLevel`: 0 not real-name (未实名), 1 real-name (实名: document data checked, broker 2 and 3),
 * 2 real person (实人: face check or certificate, broker 4).
 */
export const jiangsuAuthLevels = { 1: 0, 2: 1, 3: 1, 4: 2 } as const satisfies Record<AssuranceLevel, 0 | 1 | 2>;

/** `papersType`: two-digit codes in the order of the reference numbering. */
export const jiangsuPapersTypes = {
  resident_id: '01',
  passport: '02',
  military_officer: '03',
  hk_macao_travel_permit: '04',
  taiwan_travel_permit: '05',
  foreign_permanent_resident: '06',
} as const satisfies Record<DocumentType, string>;

/** `agentRole`: 1 法定代表人, 2 经办人. */
export const jiangsuActingRoles = { legal_representative: 1, agent: 2 } as const satisfies Record<RepresentationRole, number>;

export const jiangsuMapping = [
  { claim: 'userId', scope: 'openid', from: 'accountId' },
  // 1 个人, 2 法人
  { claim: 'userType', scope: 'openid', from: 'subjectKind', values: { natural_person: 1, legal_person: 2 } },
  { claim: 'authLevel', scope: 'openid', from: 'person.assurance', values: jiangsuAuthLevels },
  { claim: 'realName', scope: 'profile', from: 'person.name' },
  { claim: 'sex', scope: 'profile', from: 'person.sex', values: { male: '男', female: '女' } },
  { claim: 'birthday', scope: 'profile', from: 'person.birthDate', format: compactDate },
  { claim: 'mobile', scope: 'phone', from: 'person.phone' },
  { claim: 'papersType', scope: 'id_number', from: 'person.documentType', values: jiangsuPapersTypes },
  { claim: 'papersNumber', scope: 'id_number', from: 'person.documentNumber' },
  { claim: 'corpName', scope: 'legal_person', from: 'acting.name' },
  { claim: 'creditCode', scope: 'legal_person', from: 'acting.creditCode' },
  { claim: 'corpType', scope: 'legal_person', from: 'acting.orgType' },
  { claim: 'agentName', scope: 'legal_person', from: 'person.name' },
  { claim: 'agentRole', scope: 'legal_person', from: 'acting.role', values: jiangsuActingRoles },
  { claim: 'agentAuthLevel', scope: 'legal_person', from: 'person.assurance', values: jiangsuAuthLevels },
  { claim: 'agentScope', scope: 'legal_person', from: 'acting.mandateScope', format: commaList },
  { claim: 'agentExpireTime', scope: 'legal_person', from: 'acting.mandateExpiresAt', format: plainChinaTime },
  { claim: 'agentMobile', scope: 'legal_person', also: 'phone', from: 'person.phone' },
  { claim: 'agentPapersType', scope: 'legal_person', also: 'id_number', from: 'person.documentType', values: jiangsuPapersTypes },
  { claim: 'agentPapersNumber', scope: 'legal_person', also: 'id_number', from: 'person.documentNumber' },
] as const satisfies MappingTable;
