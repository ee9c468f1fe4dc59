/**
 * The national electronic licence library (全国一体化政务服务平台 电子证照库), as the simulator
 * models it: each issuing authority signs its licences with its own key pair (ES256); the library
 * publishes the authorities' public keys as a JWKS and a revocation list it signs itself. Licences
 * are issued (signed) once per simulator start, dated from its clock. See README.md, "Licences".
 */
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { demoAccounts, demoCompanies, type DemoAccount, type DemoCompany } from './accounts.ts';

export const licenceLibraryPath = '/licence-library';
export const licenceDocumentType = 'licence+jwt';
export const revocationListType = 'licence-revocations+jwt';
/** The `kid` of the library's own key, which signs the revocation list. */
export const libraryKeyId = 'licence-library';

export interface Authority {
  /** Simulator code: department letters and the GB/T 2260 division (公安 GA, 民政 MZ, 市场监管 SC). */
  readonly code: string;
  readonly name: string;
}

const policeOf: Record<string, Authority> = {
  '31': { code: 'GA310000', name: '上海市公安局' },
  '33': { code: 'GA330000', name: '浙江省公安厅' },
  '32': { code: 'GA320000', name: '江苏省公安厅' },
  '34': { code: 'GA340000', name: '安徽省公安厅' },
};
const civilAffairsHangzhou: Authority = { code: 'MZ330100', name: '杭州市民政局' };
const marketRegulatorOf: Record<string, Authority> = {
  '3304': { code: 'SC330400', name: '嘉兴市市场监督管理局' },
  '3205': { code: 'SC320500', name: '苏州市市场监督管理局' },
  '3401': { code: 'SC340100', name: '合肥市市场监督管理局' },
  '3101': { code: 'SC310000', name: '上海市市场监督管理局' },
};

export const authorities: readonly Authority[] = [...Object.values(policeOf), civilAffairsHangzhou, ...Object.values(marketRegulatorOf)];

export interface LicenceRecord {
  readonly type: string;
  readonly number: string;
  /** Resident ID number or credit code. */
  readonly holderId: string;
  readonly document: string;
}

export interface Revocation {
  readonly number: string;
  readonly revoked_at: number;
  readonly reason: string;
}

export interface LicenceLibrary {
  /** The authorities' public keys and the library's own (for the revocation list). */
  readonly jwks: readonly JWK[];
  /** Licences held by a person (ID number) or company (credit code), of the given types. */
  licencesOf(holderId: string, types: readonly string[]): LicenceRecord[];
  /** The signed revocation list, fresh (valid one hour). */
  revocationList(): Promise<string>;
  readonly revoked: readonly Revocation[];
}

const day = 24 * 3600;
const isoDate = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

interface Draft {
  readonly type: string;
  readonly name: string;
  readonly number: string;
  readonly holder: { readonly id_type: 'resident_id' | 'credit_code'; readonly id: string; readonly name: string };
  readonly authority: Authority;
  /** Days relative to now. */
  readonly issuedDays: number;
  readonly validDays: number;
  readonly fields: Record<string, unknown>;
}

const birthOf = (certNo: string) => `${certNo.slice(6, 10)}-${certNo.slice(10, 12)}-${certNo.slice(12, 14)}`;
const sexOf = (certNo: string) => (Number(certNo[16]) % 2 === 1 ? '男' : '女');

function personDrafts(account: DemoAccount): Draft[] {
  const police = policeOf[account.certNo.slice(0, 2)]!;
  const holder = { id_type: 'resident_id' as const, id: account.certNo, name: account.name };
  const address = `${police.name.replace(/公安(局|厅)$/, '')}演示路${account.certNo.slice(14, 17)}号`;
  // 王五's identity card ran out a month ago; 李四's household register was replaced (revoked).
  const cardValidDays = account.username === 'wangwu' ? -30 : 3650;
  const drafts: Draft[] = [
    {
      type: 'id_card', name: '居民身份证', number: `SFZ-${account.certNo.slice(0, 6)}-${account.certNo.slice(14)}`, holder, authority: police,
      issuedDays: account.username === 'wangwu' ? -3680 : -400, validDays: cardValidDays,
      fields: { name: account.name, sex: sexOf(account.certNo), ethnicity: '汉', birth_date: birthOf(account.certNo), address, id_number: account.certNo },
    },
    {
      type: 'household_register', name: '居民户口簿', number: `HKB-${account.certNo.slice(0, 6)}-${account.certNo.slice(10, 14)}`, holder, authority: police,
      issuedDays: -900, validDays: 3650 * 3,
      fields: { name: account.name, relation_to_head: '户主', household_type: '居民家庭户', address, id_number: account.certNo },
    },
  ];
  if (account.username === 'zhangsan') {
    drafts.push({
      type: 'marriage_certificate', name: '结婚证', number: 'J330106-2015-000417', holder, authority: civilAffairsHangzhou,
      issuedDays: -3900, validDays: 3650 * 10,
      fields: { name: account.name, spouse_name: '林晓', registered_on: '2015-10-08' },
    });
  }
  return drafts;
}

function companyDraft(company: DemoCompany, legalRepresentative: string): Draft {
  return {
    type: 'business_licence', name: '营业执照', number: `YYZZ-${company.creditCode}`,
    holder: { id_type: 'credit_code', id: company.creditCode, name: company.name }, authority: marketRegulatorOf[company.division.slice(0, 4)]!,
    issuedDays: -700, validDays: 3650 * 2,
    fields: { name: company.name, credit_code: company.creditCode, company_type: '有限责任公司（自然人投资或控股）', legal_representative: legalRepresentative, registered_capital: '人民币100万元', business_scope: '技术开发、技术咨询（演示）' },
  };
}

async function keyFor(kid: string, authority?: Authority): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig', ...(authority ? { authority: authority.code, authority_name: authority.name } : {}) } };
}

async function sign(typ: string, kid: string, payload: Record<string, unknown>, key: CryptoKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ, kid }).sign(key);
}

/** Creates the library's keys and signs every demo licence, dated from `nowSeconds`. */
export async function createLicenceLibrary(issuer: string, nowSeconds: () => number): Promise<LicenceLibrary> {
  const now = nowSeconds();
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  for (const authority of authorities) {
    const provisional = await keyFor('', authority);
    const kid = `${authority.code}-${(await calculateJwkThumbprint(provisional.jwk)).slice(0, 8)}`;
    keys.set(authority.code, { privateKey: provisional.privateKey, jwk: { ...provisional.jwk, kid } });
  }
  const library = await keyFor(libraryKeyId);
  const representatives = new Map<string, string>();
  for (const account of demoAccounts) {
    for (const r of account.representations) if (r.role === 'legal_representative') representatives.set(r.company.creditCode, account.name);
  }
  const drafts = [
    ...demoAccounts.flatMap(personDrafts),
    ...Object.values(demoCompanies).map((c) => companyDraft(c, representatives.get(c.creditCode) ?? '周七')),
  ];
  const records: LicenceRecord[] = [];
  for (const d of drafts) {
    const key = keys.get(d.authority.code)!;
    const issued = now + d.issuedDays * day;
    const until = now + d.validDays * day;
    const document = await sign(licenceDocumentType, key.jwk.kid!, {
      iss: d.authority.code, jti: d.number, iat: issued, nbf: issued, exp: until,
      licence_type: d.type, licence_name: d.name, number: d.number,
      holder: d.holder, issuer: { code: d.authority.code, name: d.authority.name },
      issued_on: isoDate(issued), valid_until: isoDate(until), fields: d.fields,
    }, key.privateKey);
    records.push({ type: d.type, number: d.number, holderId: d.holder.id, document });
  }
  const lisi = demoAccounts.find((a) => a.username === 'lisi')!;
  const revoked: Revocation[] = records
    .filter((r) => r.type === 'household_register' && r.holderId === lisi.certNo)
    .map((r) => ({ number: r.number, revoked_at: now - 10 * day, reason: '户口迁移，原证照已注销' }));

  return {
    jwks: [...[...keys.values()].map((k) => k.jwk), library.jwk],
    licencesOf: (holderId, types) => records.filter((r) => r.holderId === holderId && types.includes(r.type)),
    revoked,
    async revocationList() {
      const at = nowSeconds();
      return sign(revocationListType, libraryKeyId, { iss: `${issuer}${licenceLibraryPath}`, iat: at, exp: at + 3600, revoked }, library.privateKey);
    },
  };
}
