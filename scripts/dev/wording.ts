/**
 * The { zh, en } catalogue helper the demo parties share (simulator, demo portal, demo service):
 * each keeps its own table of words, as a separate organisation would, and none imports the
 * broker's catalogue (broker/platform/i18n); looking an entry up is the same everywhere, so it is here.
 */

/** One wording in both languages of the demo pages. */
export interface Wording {
  readonly zh: string;
  readonly en: string;
}

/** A table of wordings by key. */
export type WordingTable = Readonly<Record<string, Wording>>;

/**
 * `entry` in `language` (`en`, else Chinese), each `{name}` filled from `params`. A placeholder
 * without a value becomes `missing` when given, else stays as it is. The caller escapes for HTML.
 */
export function wordingIn(entry: Wording, language: string, params: Readonly<Record<string, unknown>> = {}, missing?: string): string {
  const text = language === 'en' ? entry.en : entry.zh;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined || value === null ? missing ?? whole : String(value);
  });
}
