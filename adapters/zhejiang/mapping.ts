/**
 * 浙江 浙里办 / 浙江政务服务网: the `getUserInfo` dialect (shared/reference/provinces.md).
 *
 * One deviation from the platform's field list: the legal person's company name is released as
 * `CompanyName` (the older documents' name), because the newer `name` is the standard OpenID
 * Connect claim for the person's own name and a flat userinfo answer cannot hold both.
 */
import type { AssuranceLevel } from '../../broker/identity/assurance.ts';
import type { DocumentType, RepresentationRole } from '../../broker/identity/model.ts';
import type { MappingTable } from '../apply.ts';
import { commaList, compactChinaTime } from '../formats.ts';

/** `authlevel`: 1 not real-name, 2 basic real-name (初级实名), 3 advanced real-name (高级实名). */
export const zhejiangAuthLevels = { 1: 1, 2: 2, 3: 3, 4: 3 } as const satisfies Record<AssuranceLevel, 1 | 2 | 3>;

/** `idtype` codes (identifiers.md). */
export const zhejiangIdTypes = {
  resident_id: 1,
  passport: 2,
  military_officer: 3,
  hk_macao_travel_permit: 4,
  taiwan_travel_permit: 5,
  foreign_permanent_resident: 6,
} as const satisfies Record<DocumentType, number>;

/** `sex`: 1 male, 2 female. */
export const zhejiangSexes = { male: 1, female: 2 } as const;

/** `attnUserType`: who operates for the company (defined here; the platform publishes no codes). */
export const zhejiangActingRoles = { legal_representative: 'LEGAL_REPRESENTATIVE', agent: 'AGENT' } as const satisfies Record<RepresentationRole, string>;

export const zhejiangMapping = [
  // openid: the account, its kind and its real-name level
  { claim: 'userid', scope: 'openid', from: 'accountId' },
  // The broker has no login names; a phone number here would leak outside the `phone` scope.
  { claim: 'loginname', scope: 'openid', from: 'accountId' },
  { claim: 'userType', scope: 'openid', from: 'subjectKind', values: { natural_person: 'PERSON', legal_person: 'LEGAL_PERSON' } },
  { claim: 'authlevel', scope: 'openid', from: 'person.assurance', values: zhejiangAuthLevels },
  // profile
  { claim: 'username', scope: 'profile', from: 'person.name' },
  { claim: 'sex', scope: 'profile', from: 'person.sex', values: zhejiangSexes },
  { claim: 'birthday', scope: 'profile', from: 'person.birthDate' },
  // phone
  { claim: 'mobile', scope: 'phone', from: 'person.phone' },
  // id_number: `certKey` is a hash of ID number and name, a join key across services: same scope.
  { claim: 'idtype', scope: 'id_number', from: 'person.documentType', values: zhejiangIdTypes },
  { claim: 'idnum', scope: 'id_number', from: 'person.documentNumber' },
  { claim: 'certKey', scope: 'id_number', from: 'person.certKey' },
  // legal_person: the company
  { claim: 'CompanyName', scope: 'legal_person', from: 'acting.name' },
  { claim: 'unifiedSocialId', scope: 'legal_person', from: 'acting.creditCode' },
  { claim: 'orgType', scope: 'legal_person', from: 'acting.orgType' },
  // legal_person: the person operating (经办人), whatever the role
  { claim: 'attnName', scope: 'legal_person', from: 'person.name' },
  { claim: 'attnUserType', scope: 'legal_person', from: 'acting.role', values: zhejiangActingRoles },
  { claim: 'attnAuthLevel', scope: 'legal_person', from: 'person.assurance', values: zhejiangAuthLevels },
  { claim: 'attnAuthScope', scope: 'legal_person', from: 'acting.mandateScope', format: commaList },
  { claim: 'attnAuthExpireTime', scope: 'legal_person', from: 'acting.mandateExpiresAt', format: compactChinaTime },
  { claim: 'attnPhone', scope: 'legal_person', also: 'phone', from: 'person.phone' },
  { claim: 'attnIdType', scope: 'legal_person', also: 'id_number', from: 'person.documentType', values: zhejiangIdTypes },
  { claim: 'attnIdNo', scope: 'legal_person', also: 'id_number', from: 'person.documentNumber' },
  // legal_person: the legal representative, known only when it is the person acting
  { claim: 'principal', scope: 'legal_person', onlyFor: 'legal_representative', from: 'person.name' },
  { claim: 'principalUserId', scope: 'legal_person', onlyFor: 'legal_representative', from: 'accountId' },
] as const satisfies MappingTable;
