/**
 * The one message catalogue of the broker's pages (a data table): every string a person reads on a
 * broker page, in Chinese and English, looked up by key in the language of the request. The error
 * catalogue (../error-catalogue.ts) is part of it: `t('error.invalid_client')` reads the same entry
 * as a thrown `invalid_client`. Wording may hold `{name}` placeholders; their values are escaped.
 * A test (test/unit/i18n-catalogue.test.ts) fails when a key lacks a language.
 */
import { messages as errorMessages } from '../error-catalogue.ts';

/** One string in every language of the pages. */
export interface Text {
  readonly zh: string;
  readonly en: string;
}

export const pageMessages = {
  // The frame of every page (layout.ts).
  'layout.brand': { zh: '通办 · 长三角一网通办统一身份认证', en: 'tongban · Yangtze River Delta sign-in for government services' },
  'layout.settings': { zh: '显示设置', en: 'Display settings' },
  'layout.otherLanguage': { zh: 'English', en: '中文' },
  'layout.otherLanguageName': { zh: '切换为英文', en: 'Switch to Chinese' },
  'layout.elderOn': { zh: '大字模式', en: 'Large text' },
  'layout.elderOff': { zh: '标准字号', en: 'Standard text' },
  'layout.developmentMode': { zh: '开发模式：密钥为自动生成，仅供本机试用，请勿输入真实信息', en: 'DEVELOPMENT MODE: generated keys, for a local trial only; enter no real data' },

  // Error pages (layout.ts errorPage): what happened, what to do, the way back, the reference.
  'error.title': { zh: '无法完成请求', en: 'The request could not be completed' },
  'error.titleSimple': { zh: '没有办成', en: 'This did not work' },
  'error.whatToDo': { zh: '您可以这样做', en: 'What you can do' },
  'error.back': { zh: '返回服务', en: 'Back to the service' },
  'error.chooseAgain': { zh: '重新选择', en: 'Choose again' },
  'error.code': { zh: '错误代码', en: 'Error code' },
  'error.reference': { zh: '查询编号（联系客服时请提供）', en: 'Support reference (give it when you contact support)' },

  // The sign-out pages (oidc/provider.ts: logoutSource, postLogoutSuccessSource).
  'logout.title': { zh: '退出登录', en: 'Sign out' },
  'logout.question': { zh: '您要退出通办统一身份认证吗？退出后，在本次会话中访问过的各地服务都需要重新登录。', en: 'Do you want to sign out? Every service you reached in this session will ask you to sign in again.' },
  'logout.national': { zh: '退出后将转到国家政务服务平台，请在其页面确认退出。即使未确认，在此浏览器上的下一次登录也将要求重新输入密码。', en: 'You will then be taken to the national platform: confirm there to end your national session too. Even if you do not, the next sign-in in this browser will ask for a password.' },
  'logout.confirm': { zh: '退出', en: 'Sign out' },
  'logout.appOnly': { zh: '仅退出此应用', en: 'Sign out of this app only' },
  'logout.stay': { zh: '取消', en: 'Stay signed in' },
  'signedOut.title': { zh: '已退出登录', en: 'You have signed out' },
  'signedOut.text': { zh: '您已退出通办统一身份认证。', en: 'You have signed out of tongban.' },

  // The company choice (login/company-page.ts).
  'company.title': { zh: '选择办事企业', en: 'Choose the company you act for' },
  'company.intro': { zh: '{app} 请求以企业（法人）身份登录。根据国家政务服务平台的记录，您目前可以代表以下企业或组织办事，请选择本次要代表的一家：', en: '{app} asks for a company login. The national government service platform says you may act for these organisations now; choose the one you act for:' },
  'company.legend': { zh: '可代表的企业或组织', en: 'Organisations you may act for' },
  'company.creditCode': { zh: '统一社会信用代码', en: 'Unified social credit code' },
  'company.role': { zh: '您的身份：{role}', en: 'Your role: {role}' },
  'company.role.legal_representative': { zh: '法定代表人', en: 'legal representative' },
  'company.role.agent': { zh: '经办人', en: 'authorised agent' },
  'company.noMandate': { zh: '不需授权', en: 'No mandate needed' },
  'company.mandate': { zh: '授权事项：{scopes}；有效期至 {until}', en: 'Mandate: {scopes}; valid until {until}' },
  'company.scope.tax': { zh: '税务', en: 'tax' },
  'company.scope.social_insurance': { zh: '社保', en: 'social insurance' },
  'company.scope.business_registration': { zh: '工商登记', en: 'business registration' },
  'company.continue': { zh: '以所选企业身份继续', en: 'Continue for this company' },
  'company.cancel': { zh: '取消', en: 'Cancel' },
  'company.expiredNotListed': { zh: '已过期或已撤销的授权不会列出。', en: 'Expired or revoked mandates are not listed.' },

  // The consent page (login/consent.ts).
  'consent.title': { zh: '授权确认', en: 'Share your information?' },
  'consent.asks': { zh: '{app}{city} 请求获取以下信息：', en: '{app}{city} asks for:' },
  'consent.city': { zh: '（{city}）', en: ' ({city})' },
  'consent.division': { zh: '行政区划 {code}', en: 'division {code}' },
  'consent.person': { zh: '本次授权涉及的人员：{name}', en: 'This consent is about {name}' },
  'consent.scope.openid': { zh: '您的用户标识（同一省份的所有应用共用同一个标识和省级用户号，并非本应用专用）', en: 'Your user identifier (shared, with your provincial user id, by every app of this province; not specific to this app)' },
  'consent.scope.profile': { zh: '姓名、性别、出生日期', en: 'Name, sex, date of birth' },
  'consent.scope.offline_access': { zh: '在您离开后继续访问（刷新令牌）', en: 'Continued access after you leave (refresh token)' },
  'consent.service': { zh: '代您访问 {service}（{scopes}）', en: 'To call {service} for you ({scopes})' },
  'consent.sensitive': { zh: '敏感个人信息（单独同意，可不勾选）', en: 'Sensitive items: separate consent, you may refuse each' },
  'consent.purpose': { zh: '用途：{purpose}', en: 'Purpose: {purpose}' },
  'consent.noPurpose': { zh: '未说明用途', en: 'no purpose stated' },
  'consent.unticked': { zh: '不勾选的项目不会提供给该应用，您仍可登录。您可以随时在“我的登录”页面撤回同意。', en: 'Unticked items are not shared; you still sign in. You can withdraw consent on the account page.' },
  'consent.allow': { zh: '同意', en: 'Allow' },
  'consent.deny': { zh: '拒绝', en: 'Deny' },

  // The account page (accounts/page.ts).
  'account.title': { zh: '我的登录', en: 'Your sign-in' },
  'account.signedOut': { zh: '您目前没有登录通办统一身份认证。', en: 'You are not signed in to tongban.' },
  'account.signedIn': { zh: '您已通过国家政务服务平台登录{level}；登录时间 {time}（北京时间）。', en: 'You signed in through the national government service platform{level} at {time} (China time).' },
  'account.level': { zh: '，实名等级：{level}', en: ' (assurance: {level})' },
  'account.reached': { zh: '已获得您信息的地区和应用', en: 'Provinces and apps that received your information' },
  'account.reachedNone': { zh: '尚未访问任何应用。', en: 'No app yet.' },
  'account.signOutEverywhereNote': { zh: '退出后，上面所有应用以及国家政务服务平台都会退出登录。', en: 'Signing out ends your sign-in at every app above and at the national platform.' },
  'account.signOutEverywhere': { zh: '在所有地方退出', en: 'Sign out everywhere' },
  'account.otherProvince': { zh: '其他', en: 'other' },
  'account.withdraw': { zh: '撤回敏感信息授权（{items}）', en: 'Withdraw consent ({items})' },
  'account.listSeparator': { zh: '、', en: ', ' },

  // The operator dashboard (broker/dashboard/page.ts): both languages side by side, zh-CN first.
  'dashboard.title': { zh: '通办运营看板', en: 'tongban operator dashboard' },
  'dashboard.signIn': { zh: '运营人员登录', en: 'Operator sign-in' },
  'dashboard.operatorKey': { zh: '运营密钥', en: 'Operator key' },
  'dashboard.signInButton': { zh: '登录', en: 'Sign in' },
  'dashboard.signOut': { zh: '退出', en: 'Sign out' },
  'dashboard.wrongKey': { zh: '运营密钥无效或已吊销。', en: 'The operator key is wrong or revoked.' },
  'dashboard.expired': { zh: '看板会话已过期，请重新登录。', en: 'The dashboard session has expired; sign in again.' },
  'dashboard.forged': { zh: '表单校验失败（可能是伪造的请求），未做任何更改。', en: 'The form did not carry this session\'s token (a forged request?); nothing was changed.' },
  'dashboard.refused': { zh: '操作被拒绝，未做任何更改。', en: 'Refused; nothing was changed.' },
  'dashboard.signedInAs': { zh: '当前运营人员', en: 'Signed in as' },
  'dashboard.scopeFederation': { zh: '全联盟', en: 'whole federation' },
  'dashboard.scopeProvince': { zh: '省份', en: 'province' },
  'dashboard.lastHour': { zh: '最近一小时（每分钟登录）', en: 'Last hour (logins per minute)' },
  'dashboard.lastDay': { zh: '最近一天（每小时登录）', en: 'Last day (logins per hour)' },
  'dashboard.logins': { zh: '登录总数', en: 'logins' },
  'dashboard.reasons': { zh: '失败原因', en: 'Failure reasons' },
  'dashboard.byProvince': { zh: '按省份', en: 'By province' },
  'dashboard.byCity': { zh: '按城市', en: 'By city' },
  'dashboard.logoutQueue': { zh: '后端通道退出队列', en: 'Back-channel logout queue' },
  'dashboard.queueEmpty': { zh: '队列为空', en: 'nothing waiting' },
  'dashboard.cities': { zh: '城市与应用', en: 'Cities and apps' },
  'dashboard.suspend': { zh: '暂停', en: 'Suspend' },
  'dashboard.resume': { zh: '恢复', en: 'Resume' },
  'dashboard.rotate': { zh: '轮换密钥', en: 'Rotate secret' },
  'dashboard.newSecret': { zh: '新的客户端密钥（只显示这一次）', en: 'New client secret (shown this once)' },
  'dashboard.done': { zh: '已完成', en: 'Done' },
  'dashboard.back': { zh: '返回看板', en: 'Back to the dashboard' },
  'dashboard.audit': { zh: '审计记录', en: 'Audit trail' },
  'dashboard.auditVerified': { zh: '哈希链校验通过', en: 'hash chain verified' },
  'dashboard.auditBroken': { zh: '哈希链校验失败', en: 'hash chain broken' },
  'dashboard.auditNotChecked': { zh: '未接入哈希链审计', en: 'hash-chained trail not wired in' },
} as const satisfies Record<string, Text>;

/**
 * What a person can do after each error (error pages say what happened, then this). An error
 * without its own entry reads `default`.
 */
export const errorAdvice = {
  default: { zh: '请返回原来的网站或应用重新开始。如果问题反复出现，请联系客服并提供下面的查询编号。', en: 'Go back to the website or app you came from and start again. If it keeps happening, contact support and give the reference below.' },
  interaction_expired: { zh: '登录页面只在一段时间内有效。请返回原来的网站或应用，重新点击“登录”。', en: 'Sign-in pages are only valid for a while. Go back to the website or app you came from and press “sign in” again.' },
  upstream_state_mismatch: { zh: '这个页面可能被重复打开或来自旧的链接。请返回原来的网站或应用，重新点击“登录”。', en: 'This page may have been opened twice or from an old link. Go back to the website or app and press “sign in” again.' },
  invalid_client: { zh: '请确认您使用的是该服务的官方网站或应用。如仍无法登录，请联系提供该服务的单位。', en: 'Check that you are using the official website or app of the service. If you still cannot sign in, contact the organisation that runs it.' },
  invalid_redirect_uri: { zh: '这是该服务的设置问题，不是您的操作问题。请联系提供该服务的单位，并告诉他们下面的查询编号。', en: 'This is a problem with the service’s settings, not with anything you did. Contact the organisation that runs the service and give them the reference below.' },
  access_denied: { zh: '您选择了不提供信息，该服务没有收到您的任何信息。如需继续办理，请返回服务重新登录。', en: 'You chose not to share your information, so the service received nothing. To continue, go back to the service and sign in again.' },
  unmet_authentication_requirements: { zh: '请在国家政务服务平台（网站或“国家政务服务平台”应用）完成人脸核验等方式提升实名等级，然后返回服务重新登录。', en: 'Raise your assurance level at the national government service platform (for example with a face check in its app), then go back to the service and sign in again.' },
  upstream_unavailable: { zh: '这不是您的问题。请过几分钟再试。', en: 'This is not your fault. Please try again in a few minutes.' },
  upstream_denied: { zh: '在国家政务服务平台的登录已取消或没有完成。如需继续，请返回服务重新登录。', en: 'The sign-in at the national platform was cancelled or not completed. To continue, go back to the service and sign in again.' },
  store_unavailable: { zh: '这不是您的问题，系统正在恢复。请过几分钟再试。', en: 'This is not your fault; the system is recovering. Please try again in a few minutes.' },
  too_many_requests: { zh: '请稍等片刻再试，不要反复刷新页面。', en: 'Wait a moment before trying again; please do not reload the page repeatedly.' },
  legal_person_none: { zh: '如需代表企业办事，请企业在国家政务服务平台为您授权，然后重新登录。', en: 'To act for a company, ask it to give you a mandate at the national platform, then sign in again.' },
} as const satisfies Record<string, Text>;

/** Errors of one kind share their advice (and plain wording): the key each code reads. */
export const adviceOf: Readonly<Record<string, keyof typeof errorAdvice>> = {
  session_not_found: 'interaction_expired',
  login_required: 'interaction_expired',
  legacy_state_mismatch: 'upstream_state_mismatch',
  app_suspended: 'invalid_client',
  legacy_unknown_system: 'invalid_client',
  upstream_timeout: 'upstream_unavailable',
  upstream_rejected: 'upstream_unavailable',
  upstream_token_invalid: 'upstream_unavailable',
  temporarily_unavailable: 'store_unavailable',
  internal_error: 'store_unavailable',
  server_error: 'store_unavailable',
  legacy_login_failed: 'upstream_denied',
};

/** The plain wording of 适老化 mode: short sentences first, the full message below them. */
export const plainWording = {
  default: { zh: '这一步没有办成。', en: 'This step did not work.' },
  interaction_expired: { zh: '登录时间太长，已经失效了。', en: 'The sign-in took too long and has ended.' },
  upstream_state_mismatch: { zh: '这个页面已经用过了。', en: 'This page has already been used.' },
  invalid_client: { zh: '无法识别您来自的网站或应用。', en: 'We do not recognise the website or app you came from.' },
  invalid_redirect_uri: { zh: '该服务的设置有误，为保护您，登录已停止。', en: 'The service is set up wrongly, so we stopped the sign-in to protect you.' },
  access_denied: { zh: '您没有同意提供信息。', en: 'You did not agree to share your information.' },
  unmet_authentication_requirements: { zh: '这项服务需要更高的实名等级（例如刷脸）。', en: 'This service needs a higher identity check (for example a face check).' },
  upstream_unavailable: { zh: '现在连不上国家政务服务平台。', en: 'The national platform cannot be reached now.' },
  upstream_denied: { zh: '登录没有完成。', en: 'The sign-in was not finished.' },
  store_unavailable: { zh: '系统暂时出了问题。', en: 'The system has a problem right now.' },
  too_many_requests: { zh: '操作太频繁了。', en: 'Too many tries in a short time.' },
  legal_person_none: { zh: '您现在不能代表任何企业办事。', en: 'You cannot act for any company right now.' },
} as const satisfies Record<keyof typeof errorAdvice, Text>;

export type PageMessageKey = keyof typeof pageMessages;
export type ErrorMessageKey = `error.${keyof typeof errorMessages}`;
/** Every key of the catalogue: page wording and the error catalogue (`error.<key>`). */
export type MessageKey = PageMessageKey | ErrorMessageKey;

/** An entry of the catalogue, if `key` names one. */
export function textOf(key: string): Text | undefined {
  if (Object.hasOwn(pageMessages, key)) return pageMessages[key as PageMessageKey];
  if (key.startsWith('error.')) {
    const code = key.slice('error.'.length);
    if (Object.hasOwn(errorMessages, code)) return errorMessages[code as keyof typeof errorMessages];
  }
  return undefined;
}

/** Every entry, by a name that says which table it is in (for the completeness test). */
export function everyText(): Array<[string, Partial<Text>]> {
  return [
    ...Object.entries(pageMessages),
    ...Object.entries(errorMessages).map(([key, entry]): [string, Partial<Text>] => [`error.${key}`, entry]),
    ...Object.entries(errorAdvice).map(([key, entry]): [string, Partial<Text>] => [`advice.${key}`, entry]),
    ...Object.entries(plainWording).map(([key, entry]): [string, Partial<Text>] => [`plain.${key}`, entry]),
  ];
}
