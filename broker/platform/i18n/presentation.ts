/**
 * How the page being served is presented to its person: the language and the display mode
 * (standard, or 适老化 large text with strong contrast). Chosen once per request by
 * `choosePresentation` (choose.ts) and read here by the layouts and `t()`, so no page handler has
 * to pass a language through every call. Outside a request: Chinese, standard.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Locale } from '../error-catalogue.ts';

/** The languages of the pages (the error catalogue's); zh-CN is the default. */
export type { Locale };
export const locales: readonly Locale[] = ['zh-CN', 'en'];

/** `elder` is the 适老化 mode (MIIT 互联网网站适老化通用设计规范): larger text, stronger contrast, larger targets. */
export type DisplayMode = 'standard' | 'elder';

export interface Presentation {
  readonly locale: Locale;
  readonly mode: DisplayMode;
  /** The same-origin path (with query) the language and mode switches bring the person back to. */
  readonly returnTo: string;
  /** The path of the switch route (config/defaults.ts `routes.preferences`). */
  readonly switchPath: string;
  /** A development-mode broker says so at the top of every page. */
  readonly development?: boolean;
}

export const defaultPresentation: Presentation = { locale: 'zh-CN', mode: 'standard', returnTo: '/', switchPath: '/preferences' };

const presentationScope = new AsyncLocalStorage<Presentation>();

/** The presentation of the request being served (the default outside one). */
export function currentPresentation(): Presentation {
  return presentationScope.getStore() ?? defaultPresentation;
}

/** The language of the request being served. */
export function currentLocale(): Locale {
  return currentPresentation().locale;
}

/** Runs `work` (the rest of a request) with `presentation`. */
export function withPresentation<T>(presentation: Presentation, work: () => T): T {
  return presentationScope.run(presentation, work);
}

/** A language tag (`en-US`, `zh-Hans-CN`) as one of ours, if it is one. */
export function localeOf(tag: string | undefined): Locale | undefined {
  const lower = tag?.trim().toLowerCase() ?? '';
  if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  return undefined;
}

/** The first of ours in an OIDC `ui_locales` value (space-separated tags, preferred first). */
export function localeOfUiLocales(value: unknown): Locale | undefined {
  if (typeof value !== 'string') return undefined;
  for (const tag of value.split(/\s+/)) {
    const locale = localeOf(tag);
    if (locale) return locale;
  }
  return undefined;
}
