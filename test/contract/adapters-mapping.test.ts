/**
 * Field by field: what each province receives for the fixture identities, as a natural person and
 * acting for a legal person.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assuranceLevels } from '../../broker/identity/assurance.ts';
import { isValidCreditCode, isValidResidentId, parseResidentId } from '../../broker/identity/identifiers.ts';
import type { CanonicalIdentity } from '../../broker/identity/model.ts';
import { anhui } from '../../adapters/anhui/index.ts';
import { jiangsu } from '../../adapters/jiangsu/index.ts';
import { registeredAdapters } from '../../adapters/registry.ts';
import { shanghai } from '../../adapters/shanghai/index.ts';
import { standardClaims, standardClaimsByScope } from '../../adapters/standard.ts';
import type { ProvinceAdapter, ReleaseContext } from '../../adapters/types.ts';
import { zhejiang } from '../../adapters/zhejiang/index.ts';
import {
  actingFor, companyAgent, creditCodes, fixtureIdentities, legalRepresentative, passportHolder, residentIds, residentPerson,
  testDerive, unverifiedPerson,
} from '../fixtures/identities.ts';

const personal = 'openid profile phone id_number';
const everything = `${personal} legal_person`;

function context(adapter: ProvinceAdapter, identity: CanonicalIdentity, scope: string, acting?: number): ReleaseContext {
  return {
    identity,
    scopes: new Set(scope.split(' ')),
    accountId: adapter.accountId(identity, testDerive),
    ...(acting === undefined ? {} : { acting: actingFor(identity, acting) }),
  };
}

function release(adapter: ProvinceAdapter, identity: CanonicalIdentity, scope: string, acting?: number) {
  return adapter.claims(context(adapter, identity, scope, acting));
}

function assuranceTable(adapter: ProvinceAdapter) {
  return assuranceLevels.map((level) => adapter.assurance(level));
}

describe('fixture identities', () => {
  it('carry valid synthetic resident ID numbers, with birth date and sex matching the number', () => {
    for (const number of Object.values(residentIds)) assert.ok(isValidResidentId(number), number);
    for (const identity of fixtureIdentities) {
      const { document, birthDate, sex } = identity.person;
      if (document.type !== 'resident_id') continue;
      const facts = parseResidentId(document.number);
      assert.equal(facts?.birthDate, birthDate);
      assert.equal(facts?.sex, sex);
    }
  });

  it('carry valid unified social credit codes', () => {
    for (const code of Object.values(creditCodes)) assert.ok(isValidCreditCode(code), code);
    for (const identity of fixtureIdentities) for (const r of identity.representations) assert.ok(isValidCreditCode(r.creditCode), r.creditCode);
  });
});

describe('standard claims', () => {
  it('releases name, birthdate and gender under profile, the phone under phone', () => {
    assert.deepEqual(standardClaims(context(zhejiang, residentPerson, 'openid profile phone')), {
      name: '张伟', birthdate: '1985-03-15', gender: 'male', phone_number: '13800000001', phone_number_verified: true,
    });
  });

  it('releases nothing for openid alone, and leaves out what the identity does not have', () => {
    assert.deepEqual(standardClaims(context(zhejiang, residentPerson, 'openid id_number legal_person')), {});
    assert.deepEqual(standardClaims(context(zhejiang, passportHolder, personal)), { name: 'Anna Müller' });
  });

  it('lists its claims per scope for discovery', () => {
    assert.deepEqual(standardClaimsByScope.profile, ['name', 'birthdate', 'gender']);
    assert.deepEqual(standardClaimsByScope.phone, ['phone_number', 'phone_number_verified']);
    assert.deepEqual(standardClaimsByScope.id_number, []);
  });
});

describe('浙江 zhejiang', () => {
  const userid = zhejiang.accountId(residentPerson, testDerive);

  it('maps assurance to authlevel 1/2/3 (broker 3 and 4 are both advanced real-name)', () => {
    assert.deepEqual(assuranceTable(zhejiang), [1, 2, 3, 3]);
  });

  it('releases the personal getUserInfo fields with the platform codes', () => {
    assert.deepEqual(release(zhejiang, residentPerson, personal), {
      userid, loginname: userid, userType: 'PERSON', authlevel: 3,
      username: '张伟', sex: 1, birthday: '1985-03-15',
      mobile: '13800000001',
      idtype: 1, idnum: '330106198503151238', certKey: 'ck-5b1e0d7a9c4f',
    });
  });

  it('releases only the account and its level for openid', () => {
    assert.deepEqual(release(zhejiang, residentPerson, 'openid'), { userid, loginname: userid, userType: 'PERSON', authlevel: 3 });
    assert.equal(release(zhejiang, unverifiedPerson, 'openid').authlevel, 1);
  });

  it('codes a passport as idtype 2 and a woman as sex 2', () => {
    const passport = release(zhejiang, passportHolder, personal);
    assert.equal(passport.idtype, 2);
    assert.equal(passport.idnum, 'EJ4829173');
    assert.equal(passport.sex, undefined);
    assert.equal(passport.birthday, undefined);
    assert.equal(release(zhejiang, companyAgent, 'openid profile').sex, 2);
  });

  it('releases an agent acting for a company as LEGAL_PERSON with the attn fields', () => {
    const attn = zhejiang.accountId(companyAgent, testDerive);
    assert.deepEqual(release(zhejiang, companyAgent, everything, 0), {
      userid: attn, loginname: attn, userType: 'LEGAL_PERSON', authlevel: 3,
      username: '李娜', sex: 2, birthday: '1992-07-08',
      mobile: '13900000002',
      idtype: 1, idnum: '320505199207082467',
      CompanyName: '杭州西湖示例科技有限公司', unifiedSocialId: '91330106MA2H7K3Q0L', orgType: 'enterprise',
      attnName: '李娜', attnUserType: 'AGENT', attnAuthLevel: 3,
      attnAuthScope: 'tax,social_insurance', attnAuthExpireTime: '20270101080000',
      attnPhone: '13900000002', attnIdType: 1, attnIdNo: '320505199207082467',
    });
  });

  it('releases a legal representative with the principal fields and without a mandate', () => {
    const principalUserId = zhejiang.accountId(legalRepresentative, testDerive);
    assert.deepEqual(release(zhejiang, legalRepresentative, 'openid legal_person', 0), {
      userid: principalUserId, loginname: principalUserId, userType: 'LEGAL_PERSON', authlevel: 3,
      CompanyName: '合肥市瑶海区示例面馆', unifiedSocialId: '92340102MA8P5T6L0G', orgType: 'individual_business',
      attnName: '陈军', attnUserType: 'LEGAL_REPRESENTATIVE', attnAuthLevel: 3,
      principal: '陈军', principalUserId,
    });
  });

  it('stays a PERSON when the company is not asked for, or no company is acting', () => {
    assert.equal(release(zhejiang, companyAgent, personal, 0).userType, 'PERSON');
    assert.equal(release(zhejiang, companyAgent, everything).userType, 'PERSON');
    assert.equal(release(zhejiang, companyAgent, everything).unifiedSocialId, undefined);
  });
});

describe('上海 shanghai', () => {
  it('maps assurance one to one onto L1..L4', () => {
    assert.deepEqual(assuranceTable(shanghai), ['L1', 'L2', 'L3', 'L4']);
  });

  it('releases a 个人 with the zwdtsw fields and the three-digit document codes', () => {
    assert.deepEqual(release(shanghai, residentPerson, personal), {
      zwdtswUserId: shanghai.accountId(residentPerson, testDerive), zwdtswUserType: '个人', zwdtswAuthLevel: 'L3',
      zwdtswName: '张伟', zwdtswLinkPhone: '13800000001',
      zwdtswCertType: '111', zwdtswCertId: '330106198503151238',
    });
    assert.equal(release(shanghai, passportHolder, personal).zwdtswCertType, '414');
  });

  it('releases a 法人 with the company and the acting person', () => {
    assert.deepEqual(release(shanghai, companyAgent, 'openid legal_person', 1), {
      zwdtswUserId: shanghai.accountId(companyAgent, testDerive), zwdtswUserType: '法人', zwdtswAuthLevel: 'L4',
      zwdtswCorpName: '苏州示例精密制造有限公司', zwdtswCorpCode: '91320505MA1W8N2P1N', zwdtswCorpType: 'enterprise',
      zwdtswAgentName: '李娜', zwdtswAgentRole: '经办人', zwdtswAgentAuthLevel: 'L4',
      zwdtswAgentScope: ['customs'], zwdtswAgentExpireTime: '2026-06-30T23:59:59+08:00',
    });
    const rep = release(shanghai, legalRepresentative, everything, 0);
    assert.equal(rep.zwdtswAgentRole, '法定代表人');
    assert.equal(rep.zwdtswAgentCertId, '31011519700412871X');
    assert.equal(rep.zwdtswAgentExpireTime, undefined);
  });
});

describe('江苏 jiangsu', () => {
  it('maps assurance to 0 未实名, 1 实名, 2 实人', () => {
    assert.deepEqual(assuranceTable(jiangsu), [0, 1, 1, 2]);
  });

  it('releases a person with papersType / papersNumber', () => {
    assert.deepEqual(release(jiangsu, residentPerson, personal), {
      userId: jiangsu.accountId(residentPerson, testDerive), userType: 1, authLevel: 1,
      realName: '张伟', sex: '男', birthday: '19850315',
      mobile: '13800000001',
      papersType: '01', papersNumber: '330106198503151238',
    });
    assert.equal(release(jiangsu, passportHolder, 'openid id_number').papersType, '02');
  });

  it('releases a legal person with the corp and agent fields', () => {
    assert.deepEqual(release(jiangsu, companyAgent, 'openid phone legal_person', 0), {
      userId: jiangsu.accountId(companyAgent, testDerive), userType: 2, authLevel: 2,
      mobile: '13900000002',
      corpName: '杭州西湖示例科技有限公司', creditCode: '91330106MA2H7K3Q0L', corpType: 'enterprise',
      agentName: '李娜', agentRole: 2, agentAuthLevel: 2,
      agentScope: 'tax,social_insurance', agentExpireTime: '2027-01-01 08:00:00',
      agentMobile: '13900000002',
    });
    assert.equal(release(jiangsu, legalRepresentative, 'openid legal_person', 0).agentRole, 1);
  });
});

describe('安徽 anhui', () => {
  it('maps assurance to none / low / substantial / high', () => {
    assert.deepEqual(assuranceTable(anhui), ['none', 'low', 'substantial', 'high']);
  });

  it('releases a person with the wst_ fields', () => {
    assert.deepEqual(release(anhui, residentPerson, personal), {
      wst_user_id: anhui.accountId(residentPerson, testDerive), wst_user_type: 'natural', wst_auth_level: 'substantial',
      wst_name: '张伟', wst_gender: 'M', wst_birth_date: '1985-03-15',
      wst_mobile: '13800000001',
      wst_cert_type: 'resident_id', wst_cert_no: '330106198503151238',
    });
  });

  it('releases a legal person with the wst_org and wst_agent fields', () => {
    assert.deepEqual(release(anhui, companyAgent, 'openid legal_person id_number', 0), {
      wst_user_id: anhui.accountId(companyAgent, testDerive), wst_user_type: 'legal', wst_auth_level: 'high',
      wst_cert_type: 'resident_id', wst_cert_no: '320505199207082467',
      wst_org_name: '杭州西湖示例科技有限公司', wst_org_code: '91330106MA2H7K3Q0L', wst_org_type: 'enterprise',
      wst_agent_name: '李娜', wst_agent_role: 'agent', wst_agent_auth_level: 'high',
      wst_mandate_scope: ['tax', 'social_insurance'], wst_mandate_expires_at: 1798761600,
      wst_agent_cert_type: 'resident_id', wst_agent_cert_no: '320505199207082467',
    });
  });
});

describe('adapters/README.md', () => {
  it('documents every claim of every province', () => {
    const readme = readFileSync(new URL('../../adapters/README.md', import.meta.url), 'utf8');
    for (const adapter of registeredAdapters()) {
      for (const name of Object.values(adapter.claimsByScope).flat()) assert.ok(readme.includes(`\`${name}\``), `${adapter.id}: ${name}`);
    }
  });
});
