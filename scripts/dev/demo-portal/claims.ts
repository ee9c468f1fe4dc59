/**
 * What the demo portal shows of what it received: each claim once (ID token and UserInfo merged),
 * with a human label, times as local dates, levels and methods in words, the province's dialect
 * named — instead of a dump of raw token fields. Protocol plumbing (nonce, hashes, iss/aud/exp) is
 * left out: it is checked, not shown.
 */
import { wordingIn, type Wording as Words } from '../wording.ts';
import type { DemoLanguage } from './messages.ts';

/** Checked by the portal, meaningless to the person. */
const plumbing = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'azp', 'jti']);

const labels: Record<string, Words> = {
  sub: { zh: '本省用户标识（各省不同）', en: 'subject (pairwise: differs per province)' },
  sid: { zh: '登录会话标识（单点退出用）', en: 'session id (for single logout)' },
  name: { zh: '姓名', en: 'name' },
  acr: { zh: '认证等级', en: 'assurance level' },
  amr: { zh: '认证方式', en: 'authentication methods' },
  auth_time: { zh: '登录时间', en: 'signed in at' },
  phone_number: { zh: '手机号码', en: 'mobile phone' },
  phone_number_verified: { zh: '手机号已核验', en: 'phone verified' },
  // 浙江
  userid: { zh: '浙江用户编号', en: 'Zhejiang user id' }, loginname: { zh: '浙江登录名', en: 'Zhejiang login name' },
  userType: { zh: '账户类型', en: 'account kind' }, authlevel: { zh: '浙江认证等级', en: 'Zhejiang assurance level' },
  username: { zh: '姓名（浙江字段）', en: 'name (Zhejiang field)' }, mobile: { zh: '手机（省内字段）', en: 'mobile (provincial field)' },
  idtype: { zh: '证件类型', en: 'document type' }, idnum: { zh: '证件号码', en: 'document number' },
  certKey: { zh: '国家关联键', en: 'national join key' }, CompanyName: { zh: '企业名称', en: 'organisation' },
  unifiedSocialId: { zh: '统一社会信用代码', en: 'credit code' }, orgType: { zh: '组织类型', en: 'organisation type' },
  attnName: { zh: '经办人姓名', en: 'acting person' }, attnUserType: { zh: '办事身份', en: 'acting role' },
  attnAuthLevel: { zh: '经办人认证等级', en: 'acting person\'s level' }, attnAuthScope: { zh: '授权事项', en: 'mandate scope' },
  attnAuthExpireTime: { zh: '授权有效期至', en: 'mandate valid until' }, principal: { zh: '法定代表人', en: 'legal representative' },
  principalUserId: { zh: '法定代表人用户编号', en: 'legal representative\'s user id' },
  // 上海
  zwdtswUserId: { zh: '上海用户编号', en: 'Shanghai user id' }, zwdtswUserType: { zh: '账户类型', en: 'account kind' },
  zwdtswAuthLevel: { zh: '上海认证等级', en: 'Shanghai assurance level' }, zwdtswName: { zh: '姓名（上海字段）', en: 'name (Shanghai field)' },
  zwdtswLinkPhone: { zh: '手机（上海字段）', en: 'mobile (Shanghai field)' }, zwdtswCertType: { zh: '证件类型', en: 'document type' },
  zwdtswCertId: { zh: '证件号码', en: 'document number' }, zwdtswCorpName: { zh: '企业名称', en: 'organisation' },
  zwdtswCorpCode: { zh: '统一社会信用代码', en: 'credit code' }, zwdtswCorpType: { zh: '组织类型', en: 'organisation type' },
  zwdtswAgentName: { zh: '经办人姓名', en: 'acting person' }, zwdtswAgentRole: { zh: '办事身份', en: 'acting role' },
  zwdtswAgentAuthLevel: { zh: '经办人认证等级', en: 'acting person\'s level' }, zwdtswAgentScope: { zh: '授权事项', en: 'mandate scope' },
  zwdtswAgentExpireTime: { zh: '授权有效期至', en: 'mandate valid until' },
  // 江苏
  userId: { zh: '江苏用户编号', en: 'Jiangsu user id' }, authLevel: { zh: '江苏认证等级', en: 'Jiangsu assurance level' },
  realName: { zh: '姓名（江苏字段）', en: 'name (Jiangsu field)' }, corpName: { zh: '企业名称', en: 'organisation' },
  creditCode: { zh: '统一社会信用代码', en: 'credit code' }, agentName: { zh: '经办人姓名', en: 'acting person' },
  agentRole: { zh: '办事身份', en: 'acting role' }, agentScope: { zh: '授权事项', en: 'mandate scope' },
  // 安徽
  wst_user_id: { zh: '安徽用户编号', en: 'Anhui user id' }, wst_user_type: { zh: '账户类型', en: 'account kind' },
  wst_auth_level: { zh: '安徽认证等级', en: 'Anhui assurance level' }, wst_name: { zh: '姓名（安徽字段）', en: 'name (Anhui field)' },
  sex: { zh: '性别（省内代码）', en: 'sex (provincial code)' }, birthday: { zh: '出生日期（省内格式）', en: 'date of birth (provincial format)' },
  birthdate: { zh: '出生日期', en: 'date of birth' }, gender: { zh: '性别', en: 'gender' },
  represents: { zh: '代表的企业', en: 'acting for' }, legal_person: { zh: '企业（法人）', en: 'company' },
};

const levels: Record<string, Words> = {
  'urn:tongban:loa:1': { zh: '1级 非实名', en: 'level 1, not real-name' },
  'urn:tongban:loa:2': { zh: '2级 基础实名', en: 'level 2, basic real-name' },
  'urn:tongban:loa:3': { zh: '3级 高级实名', en: 'level 3, advanced real-name' },
  'urn:tongban:loa:4': { zh: '4级 实人核验（人脸）', en: 'level 4, person verified (face)' },
};

const genders: Record<string, Words> = { male: { zh: '男', en: 'male' }, female: { zh: '女', en: 'female' } };

/** Epoch-second claims, shown as local dates (China Standard Time). */
const times = new Set(['auth_time', 'updated_at']);

const methods: Record<string, Words> = {
  pwd: { zh: '密码', en: 'password' }, face: { zh: '人脸核验', en: 'face check' }, otp: { zh: '短信验证码', en: 'one-time code' },
  mfa: { zh: '多因素', en: 'multi-factor' }, hwk: { zh: '数字证书', en: 'certificate' },
};

/** The province's dialect, by the first two digits of the portal's city code. */
const dialects: Record<string, Words> = {
  '33': { zh: '浙江方言：userid、authlevel（1/2/3）、idnum 等浙江政务服务网沿用的字段名。', en: 'Zhejiang dialect: userid, authlevel (1/2/3), idnum and the other field names Zhejiang\'s platform has always used.' },
  '31': { zh: '上海方言：zwdtsw 前缀的“一网通办”字段，如 zwdtswUserId、zwdtswAuthLevel（L1–L4）。', en: 'Shanghai dialect: the 一网通办 fields prefixed zwdtsw, such as zwdtswUserId and zwdtswAuthLevel (L1–L4).' },
  '32': { zh: '江苏方言：userId、authLevel、realName 等江苏政务服务网的字段。', en: 'Jiangsu dialect: userId, authLevel, realName and Jiangsu\'s other fields.' },
  '34': { zh: '安徽方言：wst_ 前缀的皖事通字段。', en: 'Anhui dialect: the wst_ fields of 皖事通.' },
};

export function dialectOf(city: string | undefined, language: DemoLanguage): string | undefined {
  const words = city ? dialects[city.slice(0, 2)] : undefined;
  return words ? wordingIn(words, language) : undefined;
}

export interface ClaimRow {
  readonly name: string;
  readonly label: string;
  readonly value: string;
  /** The value in words, when the raw value needs one (levels, methods, times). */
  readonly meaning?: string;
  readonly from: 'id_token' | 'userinfo';
}

const standard = new Set(['sub', 'sid', 'name', 'acr', 'amr', 'auth_time', 'phone_number', 'phone_number_verified']);

function localTime(epochSeconds: number, language: DemoLanguage): string {
  return new Date(epochSeconds * 1000).toLocaleString(language === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai', dateStyle: 'long', timeStyle: 'short' });
}

function meaningOf(name: string, value: unknown, language: DemoLanguage): string | undefined {
  const pick = (w: Words | undefined) => (w ? wordingIn(w, language) : undefined);
  if (name === 'acr') return pick(levels[String(value)]);
  if (name === 'amr' && Array.isArray(value)) return value.map((m) => pick(methods[String(m)]) ?? String(m)).join(language === 'en' ? ', ' : '、');
  if (name === 'gender') return pick(genders[String(value)]);
  return undefined;
}

/** Standard claims first, then the province's own; each name once (the ID token's value wins). */
export function claimRows(idToken: Record<string, unknown>, userinfo: Record<string, unknown> | undefined, language: DemoLanguage): ClaimRow[] {
  const rows = new Map<string, ClaimRow>();
  const add = (claims: Record<string, unknown>, from: ClaimRow['from']) => {
    for (const [name, value] of Object.entries(claims)) {
      if (plumbing.has(name) || rows.has(name) || value === undefined || value === null) continue;
      const words = labels[name];
      const meaning = meaningOf(name, value, language);
      rows.set(name, {
        name,
        label: words ? wordingIn(words, language) : name,
        value: times.has(name) && typeof value === 'number' ? localTime(value, language)
          : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(', ')
            : typeof value === 'object' ? JSON.stringify(value) : String(value),
        ...(meaning ? { meaning } : {}),
        from,
      });
    }
  };
  add(idToken, 'id_token');
  add(userinfo ?? {}, 'userinfo');
  return [...rows.values()].sort((a, b) => Number(!standard.has(a.name)) - Number(!standard.has(b.name)));
}
