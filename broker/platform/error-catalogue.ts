/**
 * The one catalogue of broker errors (a data table): each entry has the stable code a client or
 * test sees, its HTTP status, and its wording in Chinese and English. Throw sites name an entry
 * only (`tongbanError('upstream_denied', { detail })`), so a language switch or an operator page
 * looks a message up here by code and locale instead of searching the throw sites.
 *
 * An entry's key is its code, except for a few variants of one code that differ only in status
 * or wording (an `invalid_request` that is a too-large form is still `invalid_request`): those
 * name their `code`. Wording may hold `{name}` placeholders filled from the error's `params`;
 * params are shown, so they never hold personal data (a service identifier or a level, never a
 * name or an ID number). OAuth codes carry the status oidc-provider answers with.
 */

/** How an error reads and answers. `code` defaults to the entry's key. */
export interface ErrorWording {
  readonly status: number;
  readonly zh: string;
  readonly en: string;
  readonly code?: string;
}

export const messages = {
  // The platform: configuration, store, requests.
  internal_error: { status: 500, zh: '系统出现内部错误，请稍后再试。', en: 'Something went wrong on our side; please try again later.' },
  config_invalid: { status: 500, zh: '配置不正确：{reason}', en: 'Invalid configuration:\n{reason}' },
  keys_unusable: { code: 'config_invalid', status: 500, zh: '密钥不可用：{reason}', en: 'Keys unusable: {reason}' },
  store_unavailable: { status: 503, zh: '服务暂时不可用，请稍后再试。', en: 'The service is temporarily unavailable; please try again later.' },
  not_found: { status: 404, zh: '请求的内容不存在。', en: 'Nothing is served at this address.' },
  form_expected: { code: 'invalid_request', status: 415, zh: '请求格式不正确。', en: 'Expected a form submission.' },
  form_too_large: { code: 'invalid_request', status: 413, zh: '提交的内容过大。', en: 'The form is too large.' },
  too_many_requests: { status: 429, zh: '请求过于频繁，请 {retryAfterSeconds} 秒后再试。', en: 'Too many requests; please try again in {retryAfterSeconds} seconds.' },
  usage: { status: 400, zh: '{reason}', en: '{reason}' },
  record_unsealable: { status: 401, zh: '无法读取已保存的记录，请重新登录。', en: 'A stored record could not be read; please sign in again.' },
  crypto_suite_mismatch: { status: 500, zh: '密码套件与存储不符：{reason}', en: 'Crypto suite mismatch: {reason}' },

  // The national platform (upstream).
  upstream_unavailable: { status: 502, zh: '暂时无法连接国家政务服务平台，请稍后再试。', en: 'The national government service platform cannot be reached right now. Please try again later.' },
  upstream_timeout: { status: 504, zh: '暂时无法连接国家政务服务平台，请稍后再试。', en: 'The national government service platform cannot be reached right now. Please try again later.' },
  upstream_rejected: { status: 502, zh: '国家政务服务平台拒绝了本次请求，登录已中止。', en: 'The national government service platform refused the request; the login was stopped.' },
  upstream_token_invalid: { status: 502, zh: '国家政务服务平台的应答未通过安全校验，登录已中止。', en: 'The answer of the national government service platform failed validation; the login was stopped.' },
  upstream_state_mismatch: { status: 400, zh: '此次从国家政务服务平台返回的请求与本浏览器中进行的登录不符，已拒绝。请返回原服务重新登录。', en: 'This return from the national platform does not belong to a login in progress in this browser.' },
  upstream_denied: { status: 403, zh: '国家政务服务平台未完成身份认证。', en: 'The national government service platform did not authenticate you.' },
  identity_invalid: { status: 502, zh: '国家政务服务平台返回的身份信息未通过校验，无法继续登录。', en: 'The national platform returned an identity that failed validation.' },
  interaction_expired: { status: 400, zh: '登录会话已过期，请返回原服务重新登录。', en: 'Your login session has expired; please start again from the service.' },

  // OAuth errors oidc-provider renders as pages (people-facing wording).
  invalid_client: { status: 401, zh: '发起登录的应用未在通办注册，或已被停用。', en: 'The application that sent you here is not registered with tongban, or has been suspended.' },
  invalid_redirect_uri: { status: 400, zh: '应用提供的回调地址未登记，为了您的安全，登录已停止。', en: 'The application gave a return address that is not registered; the login was stopped for your safety.' },
  invalid_request: { status: 400, zh: '登录请求不完整或格式不正确。', en: 'The login request is incomplete or malformed.' },
  invalid_scope: { status: 400, zh: '应用请求了未被授权的信息。', en: 'The application asked for information it is not entitled to.' },
  unauthorized_client: { status: 400, zh: '该应用无权使用此登录方式。', en: 'The application may not use this kind of login.' },
  access_denied: { status: 400, zh: '登录未获授权。', en: 'The login was not authorised.' },
  login_required: { status: 400, zh: '需要重新登录。', en: 'You need to sign in again.' },
  session_not_found: { status: 400, zh: '登录会话已过期，请返回原服务重新登录。', en: 'Your login session has expired; please start again from the service.' },
  temporarily_unavailable: { status: 503, zh: '服务暂时不可用，请稍后再试。', en: 'The service is temporarily unavailable; please try again later.' },
  unmet_authentication_requirements: { status: 400, zh: '您的实名认证等级未达到该服务的要求。', en: 'Your identity assurance level does not meet what this service requires.' },
  server_error: { status: 500, zh: '系统出现内部错误，请稍后再试。', en: 'Something went wrong on our side; please try again later.' },
  request_failed: { status: 400, zh: '请求无法完成。', en: 'The request could not be completed.' },

  // The login flow and logout.
  assurance_too_low: {
    code: 'unmet_authentication_requirements',
    status: 403,
    zh: '该服务要求实名认证等级 {required} 级，您本次在国家政务服务平台完成的认证为 {achieved} 级。请到国家政务服务平台提升实名认证等级后再办理。',
    en: 'This service requires assurance level {required}; your authentication at the national platform reached level {achieved}.',
  },
  interaction_step_unknown: { code: 'internal_error', status: 500, zh: '系统出现内部错误，请稍后再试。', en: 'Unknown interaction step.' },
  logout_return_unknown: { status: 400, zh: '退出登录已完成，但无法确定您要返回的服务。请直接打开您要使用的服务。', en: 'You have signed out, but the service to return to is not known. Please open the service you want to use.' },

  // Legal-person logins. Never a credit code or a company name in the wording.
  legal_person_none: {
    status: 403,
    zh: '国家政务服务平台显示，您目前不能代表任何企业或组织办事（既不是法定代表人，也没有有效的经办授权）。如授权已过期，请企业在国家政务服务平台重新授权后再试。',
    en: 'The national government service platform lists no company or organisation you may act for now, as legal representative or as an agent with a current mandate. If a mandate has expired, the company can renew it at the national platform.',
  },
  legal_person_not_eligible: { status: 403, zh: '您不能代表所提交的企业办事。请在上一页列出的企业中选择。', en: 'You may not act for the company that was submitted. Choose one of the companies listed on the previous page.' },
  mandate_not_current: { status: 403, zh: '您代表该企业办事的授权已过期或已被撤销（以国家政务服务平台为准）。', en: 'Your mandate to act for this company has expired or was revoked at the national government service platform.' },
  mandate_unverifiable: { status: 401, zh: '暂时无法向国家政务服务平台确认您代表该企业的授权，请重新登录。', en: 'Your mandate to act for this company can no longer be confirmed with the national government service platform. Please sign in again.' },
  mandate_scope_missing: {
    status: 403,
    zh: '该服务要求经办人的授权包含以下事项：{missing}。您代表所选企业的授权缺少这些事项。请选择其他企业，或请企业在国家政务服务平台扩大授权范围后再试。',
    en: 'This service requires a mandate covering: {missing}. Your mandate for the chosen company lacks these. Choose another company, or ask the company to extend the mandate at the national platform.',
  },
  legal_person_not_chosen: { status: 403, zh: '本次登录没有选择要代表的企业。', en: 'No company was chosen in this login.' },

  // The member registry (admin API, registration). A RegistryError's own description says which field.
  invalid_division_code: { status: 400, zh: '行政区划代码不正确（应为 6 位 GB/T 2260 代码）。', en: 'The division code is not a valid 6-digit GB/T 2260 code.' },
  city_exists: { status: 409, zh: '该城市已是联盟成员。', en: 'The city is already a member.' },
  city_not_found: { status: 404, zh: '该城市不是联盟成员。', en: 'The city is not a member of the federation.' },
  app_exists: { status: 409, zh: '该应用已登记。', en: 'The app is already registered.' },
  app_not_found: { status: 404, zh: '未找到该应用。', en: 'No such app in the registry.' },
  app_suspended: { status: 403, zh: '该应用已被通办运营方暂停使用，暂时无法通过它登录。请联系提供该服务的单位。', en: 'This application has been suspended by the federation operators; you cannot sign in through it for now. Please contact the organisation that runs the service.' },
  invalid_app_metadata: { status: 400, zh: '应用登记信息不正确。', en: 'The app metadata is invalid.' },
  invalid_token: { status: 401, zh: '需要有效的运营方接口密钥。', en: 'An active operator API key is required.' },
  forbidden: { status: 403, zh: '您无权执行此操作。', en: 'You may not do this.' },
  operator_not_found: { status: 404, zh: '未找到该运营人员。', en: 'No such operator.' },
  registry_conflict: { status: 409, zh: '该记录正被他人修改，请稍后再试。', en: 'The record is being changed by someone else; try again in a few seconds.' },

  // Protected resources (resource servers).
  resource_invalid: { status: 400, zh: '资源服务登记信息不正确：{problems}', en: 'Invalid resource server: {problems}' },
  resource_not_found: { status: 404, zh: '未登记资源服务 {identifier}。', en: 'No resource server is registered as {identifier}.' },
  resource_conflict: { status: 409, zh: '服务客户端标识 {serviceClientId} 已被{owner}占用。', en: 'The service client id {serviceClientId} is taken by {owner}.' },
  resource_client_id_taken: { code: 'resource_conflict', status: 409, zh: '服务客户端标识 {serviceClientId} 已被应用占用。', en: 'The service client id {serviceClientId} is taken by an app.' },

  // Legacy (province-specific single sign-on) logins and their registry.
  legacy_unknown_system: { status: 400, zh: '将您引导至此的业务系统未登记统一身份认证，或已被停用。', en: 'The service that sent you here is not registered for single sign-on, or has been suspended.' },
  legacy_invalid_request: { status: 400, zh: '业务系统发来的登录请求不完整或格式不正确。', en: 'The login request from the service is incomplete or malformed.' },
  legacy_state_mismatch: { status: 400, zh: '此次返回与本浏览器中进行的登录不符，已拒绝。请返回业务系统重新登录。', en: 'This return does not belong to a login in progress in this browser.' },
  legacy_login_failed: { status: 400, zh: '登录未完成，请返回业务系统重新登录。', en: 'The login was not completed; go back to the service and try again.' },
  legacy_login_denied: { code: 'legacy_login_failed', status: 403, zh: '登录未完成，请返回业务系统重新登录。', en: 'The login was not completed; go back to the service and try again.' },
  legacy_system_invalid: { status: 400, zh: '业务系统登记信息不正确。', en: 'The legacy system description is invalid.' },
  legacy_system_exists: { status: 400, zh: '该服务编码的业务系统已登记。', en: 'A legacy system with this service code is already registered.' },
  legacy_system_configured: { status: 400, zh: '该服务编码在配置文件中声明。', en: 'This service code is declared in configuration.' },
  legacy_system_configured_removal: { code: 'legacy_system_configured', status: 400, zh: '配置文件中声明的业务系统须在配置文件中删除。', en: 'A system declared in configuration is removed there.' },
} as const satisfies Record<string, ErrorWording>;

/** The name of a catalogue entry: its code, or a variant of a code. */
export type ErrorKey = keyof typeof messages;

/** The languages the catalogue is written in. */
export type Locale = 'zh-CN' | 'en';

/** Values for `{name}` placeholders; a list is joined the way the language writes lists. */
export type ErrorParams = Readonly<Record<string, string | number | readonly string[]>>;

/** Whether a string names a catalogue entry. */
export function isErrorKey(value: string): value is ErrorKey {
  return Object.hasOwn(messages, value);
}

/**
 * An entry's wording in one language, its placeholders filled.
 *
 * @example
 * messageOf('resource_not_found', 'zh-CN', { identifier: 'https://gjj.example/api' });
 */
export function messageOf(key: ErrorKey, locale: Locale, params: ErrorParams = {}): string {
  const entry: ErrorWording = messages[key];
  const template = locale === 'en' ? entry.en : entry.zh;
  const separator = locale === 'en' ? '; ' : '；';
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'object' ? value.join(separator) : String(value);
  });
}

/** The code a client or test sees for an entry. */
export function codeOf(key: ErrorKey): string {
  const entry: ErrorWording = messages[key];
  return entry.code ?? key;
}
