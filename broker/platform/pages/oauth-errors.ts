/** People-facing wording for the OAuth errors oidc-provider renders as pages. */
const wording: Record<string, { zh: string; en: string }> = {
  invalid_client: { zh: '发起登录的应用未在通办注册，或已被停用。', en: 'The application that sent you here is not registered with tongban, or has been suspended.' },
  invalid_redirect_uri: { zh: '应用提供的回调地址未登记，为了您的安全，登录已停止。', en: 'The application gave a return address that is not registered; the login was stopped for your safety.' },
  invalid_request: { zh: '登录请求不完整或格式不正确。', en: 'The login request is incomplete or malformed.' },
  invalid_scope: { zh: '应用请求了未被授权的信息。', en: 'The application asked for information it is not entitled to.' },
  unauthorized_client: { zh: '该应用无权使用此登录方式。', en: 'The application may not use this kind of login.' },
  access_denied: { zh: '登录未获授权。', en: 'The login was not authorised.' },
  login_required: { zh: '需要重新登录。', en: 'You need to sign in again.' },
  session_not_found: { zh: '登录会话已过期，请返回原服务重新登录。', en: 'Your login session has expired; please start again from the service.' },
  temporarily_unavailable: { zh: '服务暂时不可用，请稍后再试。', en: 'The service is temporarily unavailable; please try again later.' },
  unmet_authentication_requirements: { zh: '您的实名认证等级未达到该服务的要求。', en: 'Your identity assurance level does not meet what this service requires.' },
  server_error: { zh: '系统出现内部错误，请稍后再试。', en: 'Something went wrong on our side; please try again later.' },
};

export function describeOAuthError(error: string, description?: string): { code: string; message: string; messageZh: string } {
  const known = wording[error];
  const code = error === 'invalid_request' && description?.includes('interaction') ? 'session_not_found' : error;
  const text = wording[code] ?? known ?? { zh: '请求无法完成。', en: 'The request could not be completed.' };
  // oidc-provider's descriptions are fixed protocol strings (never personal data) and help a developer.
  const detail = description && error !== 'server_error' ? ` (${description})` : '';
  return { code, messageZh: text.zh, message: `${text.en}${detail}` };
}
