/**
 * The national simulator's own small message catalogue (a data table) and its choice of language
 * and display mode: the simulator stands for another organisation's platform, so it shares no code
 * with the broker. Language: the login's `ui_locales` (what the person chose at the broker) unless
 * the person used the simulator's own switch since that login began, then the switch's cookie, then
 * `Accept-Language`, then Chinese. A page after the login is gone (Back after login) keeps the
 * language of the last login in this browser (a session cookie).
 */
import type Koa from 'koa';
import { wordingIn, type Wording } from '../wording.ts';

export type SimulatorLocale = 'zh-CN' | 'en';
export interface SimulatorView {
  readonly locale: SimulatorLocale;
  readonly elder: boolean;
  /** The same-origin path the switches come back to. */
  readonly returnTo: string;
}

export const defaultView: SimulatorView = { locale: 'zh-CN', elder: false, returnTo: '/' };

export const simulatorMessages = {
  platform: { zh: '国家政务服务平台 统一身份认证（模拟）', en: 'National Government Service Platform · sign-in (simulator)' },
  settings: { zh: '显示设置', en: 'Display settings' },
  otherLanguage: { zh: 'English', en: '中文' },
  otherLanguageName: { zh: '切换为英文', en: 'Switch to Chinese' },
  elderOn: { zh: '大字模式', en: 'Large text' },
  elderOff: { zh: '标准字号', en: 'Standard text' },
  loginTitle: { zh: '登录', en: 'Sign in' },
  loginFor: { zh: '登录后继续访问 {client}', en: 'Sign in to continue to {client}' },
  wrongPassword: { zh: '用户名或密码错误', en: 'Incorrect username or password' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  submitLogin: { zh: '登录', en: 'Sign in' },
  demoAccounts: { zh: '演示账号：zhangsan、lisi、wangwu、zhaoliu，密码：tongban-demo', en: 'Demo accounts: zhangsan, lisi, wangwu, zhaoliu; password: tongban-demo' },
  cancelLogin: { zh: '取消登录', en: 'Cancel sign-in' },
  faceTitle: { zh: '人脸识别（模拟）', en: 'Face check (simulated)' },
  faceText: { zh: '{name}，当前业务要求更高的实名等级，请完成人脸识别。', en: '{name}, this service asks for a higher assurance level: please complete the face check.' },
  faceStart: { zh: '开始人脸识别', en: 'Start face check' },
  logoutTitle: { zh: '确认退出登录？', en: 'Sign out of the national platform?' },
  logoutText: { zh: '退出后，通过国家政务服务平台登录的各应用将一并退出（{host}）。', en: 'Every application you signed in to through the national platform ({host}) is signed out too.' },
  logoutConfirm: { zh: '退出登录', en: 'Sign out' },
  loggedOutTitle: { zh: '您已安全退出', en: 'You have signed out' },
  expiredTitle: { zh: '登录已失效', en: 'This sign-in has expired' },
  expiredText: { zh: '本次登录已失效。请回到原来的网站或应用重新登录。', en: 'This sign-in attempt has expired. Please start again from the website or app you came from.' },
  expiredDone: { zh: '这次登录已经完成或已过期（例如在登录后按了“返回”）。您无需再次输入密码，请继续办理。', en: 'This sign-in has already been completed or has expired (for example, Back was pressed after signing in). There is no need to enter your password again: please carry on.' },
  continueTo: { zh: '继续前往 {client}', en: 'Continue to {client}' },
  noFaceTitle: { zh: '人脸识别未开始', en: 'No face check is pending' },
  noFaceText: { zh: '本次登录没有待完成的人脸识别，请回到原来的网站或应用重新登录。', en: 'No face check is pending for this sign-in. Please start again from the website or app you came from.' },
  requestErrorTitle: { zh: '请求出错', en: 'The request could not be processed' },
  requestErrorText: { zh: '请回到原来的网站或应用重新开始。', en: 'Please start again from the website or app you came from.' },
} as const satisfies Record<string, Wording>;

export type SimulatorMessageKey = keyof typeof simulatorMessages;

/** A message in the view's language, `{name}` placeholders filled (the caller escapes for HTML). */
export function say(view: SimulatorView, key: SimulatorMessageKey, params: Readonly<Record<string, string>> = {}): string {
  return wordingIn(simulatorMessages[key], view.locale, params);
}

export const simulatorCookies = { language: 'sim_lang', display: 'sim_display', lastLogin: 'sim_last_login' } as const;

function localeOf(tag: string | undefined): SimulatorLocale | undefined {
  const lower = tag?.trim().toLowerCase() ?? '';
  if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  return undefined;
}

/** A same-origin path, or undefined (no `//host`, no backslash, no control character). */
export function sameOriginPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return undefined;
  return value;
}

/** The switch's cookie: the language and when it was chosen (epoch milliseconds; 0 when unknown). */
function switchCookie(ctx: Koa.Context): { locale: SimulatorLocale; at: number } | undefined {
  const [tag, at] = (ctx.cookies.get(simulatorCookies.language, { signed: false }) ?? '').split('.');
  const locale = localeOf(tag);
  return locale ? { locale, at: Number(at) || 0 } : undefined;
}

function firstOfUiLocales(value: unknown): SimulatorLocale | undefined {
  return typeof value === 'string' ? value.split(/\s+/).map(localeOf).find(Boolean) : undefined;
}

/** The login a page belongs to: its `ui_locales` and when it began (epoch seconds). */
export interface LoginContext {
  readonly uiLocales?: unknown;
  readonly startedAt?: number;
}

/** The view of a request; `login` is the login in progress when there is one. */
export function viewOf(ctx: Koa.Context, login: LoginContext = {}): SimulatorView {
  const cookie = switchCookie(ctx);
  const asked = firstOfUiLocales(login.uiLocales);
  const lastLogin = lastLoginOf(ctx);
  const accepted = ctx.acceptsLanguages('zh-CN', 'zh', 'en', 'en-US', 'en-GB');
  const fromLogin = asked && (!cookie || cookie.at < (login.startedAt ?? Number.POSITIVE_INFINITY) * 1000) ? asked : undefined;
  // With no login in progress, the last login's language unless the switch was used since.
  const fromLastLogin = login.uiLocales === undefined && lastLogin && (!cookie || cookie.at < lastLogin.at) ? lastLogin.locale : undefined;
  const locale = fromLogin ?? fromLastLogin ?? cookie?.locale ?? (typeof accepted === 'string' ? localeOf(accepted) : undefined) ?? 'zh-CN';
  const returnTo = ctx.method === 'GET' ? sameOriginPath(ctx.originalUrl) ?? '/' : sameOriginPath(safeRefererPath(ctx)) ?? '/';
  return { locale, elder: ctx.cookies.get(simulatorCookies.display, { signed: false }) === 'elder', returnTo };
}

/** The last login of this browser: which client it was for and in which language its pages were. */
export function lastLoginOf(ctx: Koa.Context): { clientId: string; locale: SimulatorLocale; at: number } | undefined {
  const [client, tag, at] = (ctx.cookies.get(simulatorCookies.lastLogin, { signed: false }) ?? '').split('.');
  const locale = localeOf(tag);
  if (!client || !locale) return undefined;
  try {
    return { clientId: decodeURIComponent(client), locale, at: Number(at) || 0 };
  } catch {
    return undefined;
  }
}

/** Remembers, for this browser session only, the client and language of the login being shown. */
export function rememberLogin(ctx: Koa.Context, clientId: string, view: SimulatorView): void {
  // encodeURIComponent leaves '.' as it is: encoded here so that '.' separates the three parts.
  ctx.cookies.set(simulatorCookies.lastLogin, `${encodeURIComponent(clientId).replaceAll('.', '%2E')}.${view.locale}.${Date.now()}`, { httpOnly: true, sameSite: 'lax', signed: false, overwrite: true });
}

function safeRefererPath(ctx: Koa.Context): string | undefined {
  try {
    const url = new URL(ctx.get('referer'));
    return url.origin === ctx.origin ? `${url.pathname}${url.search}` : undefined;
  } catch {
    return undefined;
  }
}

/** `GET /preferences?lang=&display=&return=`: the simulator's switches; back to a same-origin path only. */
export function simulatorPreferences(ctx: Koa.Context): void {
  const options = { httpOnly: true, sameSite: 'lax' as const, signed: false, overwrite: true, maxAge: 365 * 24 * 3600 * 1000 };
  const lang = localeOf(typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined);
  if (lang) ctx.cookies.set(simulatorCookies.language, `${lang}.${Date.now()}`, options);
  if (ctx.query.display === 'elder' || ctx.query.display === 'standard') ctx.cookies.set(simulatorCookies.display, ctx.query.display, options);
  ctx.status = 303;
  ctx.redirect(sameOriginPath(ctx.query.return) ?? '/');
}
