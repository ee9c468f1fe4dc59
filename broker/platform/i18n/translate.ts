/**
 * Looking wording up in the catalogue (messages.ts) in the language of the request being served.
 * Pages call `t('consent.title')`; a `{name}` placeholder is filled from `params`.
 */
import { textOf, type MessageKey, type Text } from './messages.ts';
import { currentLocale, type Locale } from './presentation.ts';

/** One `{zh, en}` pair in a language (the request's by default). */
export function localized(text: Text, locale: Locale = currentLocale()): string {
  return locale === 'en' ? text.en : text.zh;
}

/** Replaces each `{name}` by `fill(name)`; a placeholder without a value stays as it is. */
export function fillPlaceholders(template: string, fill: (name: string) => string | undefined): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fill(name) ?? whole);
}

/**
 * A catalogue entry in the request's language, its placeholders filled.
 *
 * @example
 * t('company.intro', { app: '苏州企业服务门户' });
 */
export function t(key: MessageKey, params: Readonly<Record<string, string | number>> = {}, locale: Locale = currentLocale()): string {
  const text = textOf(key);
  if (!text) return key;
  return fillPlaceholders(localized(text, locale), (name) => (params[name] === undefined ? undefined : String(params[name])));
}
