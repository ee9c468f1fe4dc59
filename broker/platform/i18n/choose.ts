/**
 * The request's language and display mode, and the switch route that changes them. The language is
 * the request's own `ui_locales` (OIDC Core 3.1.2.1), then the login's `ui_locales` (the interaction
 * pages carry it) unless the person switched language since that login began, then the cookie the
 * switch sets, then `Accept-Language`, then Chinese. The switch sends the person back to the page
 * they were on: a same-origin path only, never another site (no open redirect).
 */
import type { Context, Next } from 'koa';
import { localeOf, localeOfUiLocales, locales, withPresentation, type DisplayMode, type Locale, type Presentation } from './presentation.ts';

export interface PresentationOptions {
  readonly cookiePrefix: string;
  /** The switch route (config/defaults.ts `routes.preferences`). */
  readonly switchPath: string;
  /** Where the switch sends a person whose return path is unusable. */
  readonly fallbackPath: string;
  /** A development-mode broker (config `mode`): its pages say so. */
  readonly development?: boolean;
  /**
   * The `ui_locales` of a login in progress and when it began (epoch seconds), by interaction id;
   * given the request, so that the route serving it can take the interaction from the same read.
   */
  readonly interactionLocales?: (uid: string, ctx: Context) => Promise<LoginLocales | undefined>;
}

/** What the language choice takes from a login in progress. */
export interface LoginLocales {
  readonly uiLocales?: unknown;
  readonly createdAt?: number;
}

export function preferenceCookies(cookiePrefix: string) {
  return { language: `${cookiePrefix}_lang`, display: `${cookiePrefix}_display` };
}

const cookieOptions = (ctx: Context) => ({ httpOnly: true, sameSite: 'lax' as const, signed: false, secure: ctx.secure, maxAge: 365 * 24 * 3600 * 1000, overwrite: true });
const interactionPath = /^\/interaction\/([^/?#]+)/;

/** A same-origin path to return to, or undefined: no scheme, no `//host`, no backslash, no control character. */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048 || !value.startsWith('/') || value.startsWith('//')) return undefined;
  if (value.includes('\\') || [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return undefined;
  const base = 'http://return.invalid';
  const url = new URL(value, base);
  return url.origin === base ? `${url.pathname}${url.search}` : undefined;
}

/** The language cookie: the choice and when it was made (epoch seconds). */
function languageCookie(ctx: Context, name: string): { locale: Locale; at: number } | undefined {
  const [tag, at] = (ctx.cookies.get(name, { signed: false }) ?? '').split('.');
  const locale = locales.find((l) => l === tag);
  return locale ? { locale, at: Number(at) || 0 } : undefined;
}

/** A path segment decoded, or undefined when it is not valid percent-encoding (that request gets its 4xx later). */
function decodedOrUndefined(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * The login in progress that a page of `/interaction/<uid>` belongs to, when its language may
 * depend on it: read before the route runs (the one async part of the choice). Not asked for when
 * the request names its own `ui_locales`.
 */
async function loginOf(ctx: Context, options: PresentationOptions): Promise<LoginLocales | undefined> {
  if (!options.interactionLocales || localeOfUiLocales(ctx.query.ui_locales)) return undefined;
  const uid = decodedOrUndefined(interactionPath.exec(ctx.path)?.[1]);
  return uid ? options.interactionLocales(uid, ctx).catch(() => undefined) : undefined;
}

function chooseLocale(ctx: Context, options: PresentationOptions, login: LoginLocales | undefined): Locale {
  const asked = localeOfUiLocales(ctx.query.ui_locales);
  if (asked) return asked;
  const cookie = languageCookie(ctx, preferenceCookies(options.cookiePrefix).language);
  const fromLogin = localeOfUiLocales(login?.uiLocales);
  if (fromLogin && (!cookie || cookie.at < (login?.createdAt ?? 0))) return fromLogin;
  if (cookie) return cookie.locale;
  const accepted = ctx.acceptsLanguages('zh-CN', 'zh', 'en', 'en-US', 'en-GB');
  return (typeof accepted === 'string' ? localeOf(accepted) : undefined) ?? 'zh-CN';
}

function returnPathOf(ctx: Context, fallback: string): string {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return safeReturnPath(ctx.originalUrl) ?? fallback;
  const referer = ctx.get('referer');
  try {
    const url = new URL(referer);
    if (url.origin === ctx.origin) return safeReturnPath(`${url.pathname}${url.search}`) ?? fallback;
  } catch {
    // No usable referer: the fallback.
  }
  return fallback;
}

/** Koa middleware: serves the switch route, and runs every other request with its presentation. */
export function choosePresentation(options: PresentationOptions) {
  const cookies = preferenceCookies(options.cookiePrefix);
  return async (ctx: Context, next: Next) => {
    if (ctx.path === options.switchPath && ctx.method === 'GET') {
      preferencesRoute(ctx, options);
      return;
    }
    const login = await loginOf(ctx, options);
    await withPresentation(presentationOf(ctx, options, cookies.display, login), next);
  };
}

/**
 * The request's presentation, each part worked out when a page first asks for it: most requests
 * (token, userinfo, the redirects of a login) render no page and never do.
 */
function presentationOf(ctx: Context, options: PresentationOptions, displayCookie: string, login: LoginLocales | undefined): Presentation {
  let locale: Locale | undefined;
  let mode: DisplayMode | undefined;
  let returnTo: string | undefined;
  return {
    get locale() {
      return (locale ??= chooseLocale(ctx, options, login));
    },
    get mode() {
      return (mode ??= ctx.cookies.get(displayCookie, { signed: false }) === 'elder' ? 'elder' : 'standard');
    },
    get returnTo() {
      return (returnTo ??= returnPathOf(ctx, options.fallbackPath));
    },
    switchPath: options.switchPath,
    development: options.development === true,
  };
}

/** `GET <switch>?lang=en|zh-CN&display=elder|standard&return=/path`: remembers the choice, goes back. */
export function preferencesRoute(ctx: Context, options: PresentationOptions): void {
  const cookies = preferenceCookies(options.cookiePrefix);
  const lang = locales.find((l) => l === ctx.query.lang);
  if (lang) ctx.cookies.set(cookies.language, `${lang}.${Math.floor(Date.now() / 1000)}`, cookieOptions(ctx));
  const display = ctx.query.display;
  if (display === 'elder' || display === 'standard') ctx.cookies.set(cookies.display, display, cookieOptions(ctx));
  ctx.set('cache-control', 'no-store');
  ctx.status = 303;
  ctx.redirect(safeReturnPath(ctx.query.return) ?? options.fallbackPath);
}
