/**
 * The demo portals' and the demo 公积金 service's words, { zh, en } each, and how a request's language
 * is chosen: `?lang=`, then the demo's own cookie, then the broker's (same host), then
 * `Accept-Language`, then Chinese. One language per page; the portal passes it on as `ui_locales`.
 */
import type { Context } from 'koa';
import { wordingIn, type Wording } from '../wording.ts';

export type DemoLanguage = 'zh-CN' | 'en';

/** The demo's language cookie (cookies ignore ports: every demo site on this host shares it). */
export const demoLanguageCookie = 'tongban-demo-lang';
/** The broker's language cookie with the default prefix (broker/platform/i18n): `zh-CN.<epoch>` or `en.<epoch>`. */
const brokerLanguageCookie = 'tongban_lang';

export const demoMessages = {
  switchTo: { zh: 'English', en: '中文' },
  switchLabel: { zh: '切换语言', en: 'Language' },
  skip: { zh: '跳到正文', en: 'Skip to content' },
  demoNote: { zh: '演示环境：所有人员、企业和号码均为虚构。', en: 'Demo: every person, company and number here is made up.' },
  pleaseSignIn: { zh: '请选择登录方式后办理业务。登录由通办（tongban）转到国家政务服务平台完成。', en: 'Choose how to sign in. tongban sends you on to the national government service platform.' },
  demoAccounts: { zh: '演示账号：zhangsan（个人）、lisi（两家企业的经办人）、zhaoliu（企业法定代表人），密码均为 tongban-demo。', en: 'Demo accounts: zhangsan (person), lisi (agent of two companies), zhaoliu (legal representative), password tongban-demo.' },
  loginPerson: { zh: '以个人身份登录', en: 'Sign in as a person' },
  loginCompany: { zh: '以企业身份登录', en: 'Sign in for a company' },
  loginFace: { zh: '需要人脸核验 (4级)', en: 'Face check required (level 4)' },
  loginPersonWhy: { zh: '标准登录：三级（高级实名）即可。', en: 'Standard sign-in: level 3 (advanced real-name) is enough.' },
  loginCompanyWhy: { zh: '请求 legal_person 范围并每次让您选择代表的企业（prompt=select_account）。', en: 'Asks for the legal_person scope and lets you choose the company each time (prompt=select_account).' },
  loginFaceWhy: { zh: '请求 acr_values=urn:tongban:loa:4：已登录时只需补做人脸核验。', en: 'Asks for acr_values=urn:tongban:loa:4: when signed in, only the face check is added.' },
  hello: { zh: '您好，{name}', en: 'Hello, {name}' },
  receivedTitle: { zh: '本门户收到的信息', en: 'What this portal received' },
  receivedWhy: { zh: '通办把国家平台的身份转成本省的字段（“方言”）交给门户；标准字段与本省字段并列。每个字段只列一次。', en: 'tongban turns the national identity into this province\'s own fields (its "dialect") beside the standard claims. Each field once.' },
  field: { zh: '字段', en: 'Field' },
  value: { zh: '值', en: 'Value' },
  meaning: { zh: '含义', en: 'Meaning' },
  fromUserinfo: { zh: 'UserInfo', en: 'UserInfo' },
  accountLink: { zh: '在通办查看和撤回您的授权', en: 'See and withdraw your consents at tongban' },
  servicesTitle: { zh: '业务办理', en: 'Services' },
  fundQuery: { zh: '查询上海公积金', en: 'Shanghai housing fund account' },
  fundWithdraw: { zh: '办理公积金提取（材料免交）', en: 'Withdraw housing fund (no papers to upload)' },
  serviceAnswer: { zh: '{label}的答复', en: 'Answer of {label}' },
  rawAnswer: { zh: '原始答复（开发者）', en: 'Raw answer (for developers)' },
  serviceFailed: { zh: '服务暂时无法答复（{code}）。请稍后再试。', en: 'The service could not answer ({code}). Please try again later.' },
  signOut: { zh: '退出', en: 'Sign out' },
  otherPortals: { zh: '其他省份的演示门户（单点登录：无需再次输入密码）', en: 'Demo portals of other provinces (single sign-on: no password again)' },
  home: { zh: '返回首页', en: 'Back to the home page' },
  signInAgain: { zh: '重新登录', en: 'Sign in again' },
  deadEndTitle: { zh: '这次登录没有完成', en: 'This sign-in did not finish' },
  noLoginInProgress: { zh: '这个登录链接已经用过或已过期（例如刷新了页面或使用了浏览器的“后退”）。您的信息没有受到影响。', en: 'This sign-in link was already used or has expired (for example after reloading or going Back). Nothing happened to your data.' },
  stateMismatch: { zh: '登录回传的校验值与本门户发出的不一致，可能链接被改动过。为安全起见，本门户没有接受这次登录。', en: 'The sign-in came back with a check value this portal did not send; the link may have been altered. For your safety the portal did not accept it.' },
  cancelledTitle: { zh: '您已取消登录', en: 'You cancelled the sign-in' },
  cancelled: { zh: '没有任何信息交给本门户。需要时可以随时重新登录。', en: 'Nothing was passed to this portal. You can sign in again whenever you like.' },
  loginFailed: { zh: '登录未能完成：{reason}。请重新登录；如果一再出现，请联系门户客服并提供参考号 {ref}。', en: 'The sign-in could not finish: {reason}. Please sign in again; if it keeps happening, contact the portal\'s help desk with reference {ref}.' },
  brokerUnreachable: { zh: '暂时无法连接通办。请稍后再试。', en: 'tongban cannot be reached right now. Please try again later.' },
} as const satisfies Record<string, Wording>;

export type DemoMessageKey = keyof typeof demoMessages;

/** A message in `language`; a `{name}` without a value reads as nothing. */
export function translate(language: DemoLanguage, key: DemoMessageKey, params: Readonly<Record<string, unknown>> = {}): string {
  return wordingIn(demoMessages[key], language, params, '');
}

/** The request's language; `?lang=` also sets the cookie. */
export function demoLanguage(ctx: Context): DemoLanguage {
  const asked = ctx.query.lang;
  if (asked === 'en' || asked === 'zh-CN') {
    ctx.cookies.set(demoLanguageCookie, asked, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000, overwrite: true });
    return asked;
  }
  const own = ctx.cookies.get(demoLanguageCookie);
  if (own === 'en' || own === 'zh-CN') return own;
  const broker = ctx.cookies.get(brokerLanguageCookie)?.split('.')[0];
  if (broker === 'en' || broker === 'zh-CN') return broker;
  return ctx.acceptsLanguages('zh-CN', 'zh', 'en') === 'en' ? 'en' : 'zh-CN';
}
