/**
 * The broker's pages for people: small, server-rendered, in one language (the request's: see
 * ../i18n), in a standard or a 适老化 (large text, strong contrast) display, each with the switches
 * for both. Every value interpolated into HTML goes through `escapeHtml`.
 */
import { currentRequestId } from '../log.ts';
import { adviceOf, currentPresentation, errorAdvice, localized, plainWording, t, textOf, type MessageKey, type Presentation } from '../i18n/index.ts';

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Marks a string as already-safe HTML. */
export interface Html { readonly html: string }
export function raw(html: string): Html {
  return { html };
}

/** Tagged template that escapes every interpolation unless it is `Html` (or a list of them). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += value.map((v) => (isHtml(v) ? v.html : escapeHtml(v))).join('');
    else if (isHtml(value)) out += value.html;
    else if (value !== undefined && value !== null && value !== false) out += escapeHtml(value);
    out += strings[i + 1]!;
  });
  return { html: out };
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && typeof (value as Html).html === 'string';
}

/** What every page says in development mode (config `mode`), at its very top. */
export const developmentBannerHtml = '<div class="development-mode" role="alert" style="background:#b4232a;color:#fff;text-align:center;padding:.5rem;font-weight:600">'
  + '开发模式：密钥为自动生成，仅供本机试用，请勿输入真实信息 · DEVELOPMENT MODE: generated keys, for a local trial only; enter no real data</div>';

/**
 * Koa middleware for a development-mode broker: puts the banner at the top of every HTML page,
 * whoever rendered it (these layouts, oidc-provider's own pages).
 */
export async function markDevelopmentPages(ctx: { body: unknown; response: { is(type: string): string | false } }, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html') && !ctx.body.includes('class="development-mode"')) {
    ctx.body = ctx.body.replace(/<body([^>]*)>/i, (tag) => `${tag}${developmentBannerHtml}`);
  }
}

/**
 * Standard display: base 16 px, text contrast at least 4.5:1 (WCAG AA), targets of 44 px. The
 * 适老化 display (`.elder`): base 20 px, text contrast at least 7:1, targets of 48 px, wider line
 * spacing. Both reflow to one column, so a page stays usable on a phone and at 200 % zoom.
 */
const style = `
*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f3f5f8;color:#1f2933;margin:0;line-height:1.6;overflow-wrap:anywhere}
.site{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;max-width:40rem;margin:0 auto;padding:.75rem 1rem}
.brand{color:#a61f26;font-weight:600}
.switches{display:flex;flex-wrap:wrap;gap:.5rem}
.switches a{display:inline-flex;align-items:center;min-height:44px;padding:.25rem .75rem;border:1px solid #52606d;border-radius:6px;color:#1f2933;background:#fff;text-decoration:none}
main{max-width:40rem;margin:0 auto 2rem;background:#fff;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:1.5rem 1.25rem}
@media (min-width:640px){main{padding:2rem 2.2rem}}
h1{font-size:1.4rem;margin:.2rem 0 .8rem}
h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
a{color:#0b4f9c}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;background:#a61f26;color:#fff;border:2px solid #a61f26;border-radius:6px;padding:.5rem 1.2rem;font-size:1rem;font-family:inherit;cursor:pointer;text-decoration:none;margin:.3rem .4rem .3rem 0}
button.secondary,.button.secondary{background:#fff;color:#1f2933;border-color:#52606d}
:focus-visible{outline:3px solid #1a56db;outline-offset:2px}
input[type=radio],input[type=checkbox]{width:1.25rem;height:1.25rem;flex:none}
ul{padding-left:1.2rem} li{margin:.25rem 0}
fieldset{border:1px solid #c4ccd4;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}
code{background:#f0f2f5;padding:.1rem .3rem;border-radius:4px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.notice{border-left:4px solid #a61f26;padding:.25rem 0 .25rem .9rem;margin:1rem 0}
.technical{color:#52606d;font-size:.875rem;margin-top:1.5rem}
.development-mode{background:#a61f26;color:#fff;text-align:center;padding:.5rem;font-weight:600}
.elder body{font-size:1.25rem;line-height:1.8;color:#000;background:#fff}
.elder .brand{color:#7a1219}
.elder main{box-shadow:none;border:2px solid #000}
.elder h1{font-size:1.75rem}
.elder h2{font-size:1.4rem}
.elder a{color:#0a3a75}
.elder .switches a,.elder button,.elder .button{min-height:48px;font-size:1.25rem;color:#000;border:2px solid #000}
.elder button,.elder .button{background:#7a1219;border-color:#7a1219;color:#fff}
.elder button.secondary,.elder .button.secondary{background:#fff;color:#000;border-color:#000}
.elder .technical{color:#333;font-size:1rem}
.elder input[type=radio],.elder input[type=checkbox]{width:1.75rem;height:1.75rem}
.elder .development-mode{background:#7a1219}
`;

/** The language and display switches: links to the switch route that come back to this page. */
function switches(presentation: Presentation): Html {
  const other = presentation.locale === 'en' ? 'zh-CN' : 'en';
  const back = encodeURIComponent(presentation.returnTo);
  const mode = presentation.mode === 'elder' ? 'standard' : 'elder';
  return html`<nav class="switches" aria-label="${t('layout.settings')}">
<a href="${presentation.switchPath}?lang=${other}&amp;return=${raw(back)}" lang="${other}" hreflang="${other}" title="${t('layout.otherLanguageName')}">${t('layout.otherLanguage')}</a>
<a href="${presentation.switchPath}?display=${mode}&amp;return=${raw(back)}">${t(mode === 'elder' ? 'layout.elderOn' : 'layout.elderOff')}</a>
</nav>`;
}

export interface PageOptions {
  /** The title in the request's language (`t('consent.title')`). */
  readonly title: string;
  /** Deprecated: a title in English for English pages; new pages pass `title` from `t()`. */
  readonly titleEn?: string;
  readonly body: Html;
  readonly status?: number;
}

export function page({ title, titleEn, body }: PageOptions): string {
  const presentation = currentPresentation();
  const shown = presentation.locale === 'en' && titleEn ? titleEn : title;
  const banner = presentation.development ? html`<div class="development-mode" role="note">${t('layout.developmentMode')}</div>` : '';
  return `<!doctype html>
<html lang="${presentation.locale}"${presentation.mode === 'elder' ? ' class="elder"' : ''}><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(shown)} · ${escapeHtml(t('layout.brand'))}</title><style>${style}</style></head>
<body>${html`${banner}`.html}<header class="site"><span class="brand">${escapeHtml(t('layout.brand'))}</span>${switches(presentation).html}</header>
<main><h1>${escapeHtml(shown)}</h1>
${body.html}
</main></body></html>`;
}

/** An entry in the request's language as HTML: `Html` values are placed as they are, others escaped. */
export function th(key: MessageKey, params: Readonly<Record<string, unknown>> = {}): Html {
  const template = localized(textOf(key) ?? { zh: key, en: key });
  const parts = template.split(/\{(\w+)\}/);
  return {
    html: parts.map((part, i) => {
      if (i % 2 === 0) return escapeHtml(part);
      const value = params[part];
      if (value === undefined) return escapeHtml(`{${part}}`);
      return isHtml(value) ? value.html : escapeHtml(value);
    }).join(''),
  };
}

export interface ErrorPageOptions {
  readonly code: string;
  /** The wording in English. */
  readonly message: string;
  /** The wording in Chinese. */
  readonly messageZh: string;
  /** Where the person can go next; `labelEn` is read on English pages. */
  readonly back?: { readonly href: string; readonly label: string; readonly labelEn: string };
  /** The support reference: the request id (`x-request-id`); default: the request being served. */
  readonly reference?: string;
  /** A fixed protocol description for the service's developers (never personal data or internals). */
  readonly technical?: string;
}

/**
 * What happened (announced to screen readers), what the person can do, the way back, and the
 * support reference. In 适老化 mode a plain sentence comes first.
 */
export function errorPage({ code, message, messageZh, back, reference = currentRequestId(), technical }: ErrorPageOptions): string {
  const { locale, mode } = currentPresentation();
  const kind = Object.hasOwn(errorAdvice, code) ? (code as keyof typeof errorAdvice) : adviceOf[code] ?? 'default';
  const elder = mode === 'elder';
  return page({
    title: t(elder ? 'error.titleSimple' : 'error.title'),
    body: html`<div class="notice" role="alert">${elder ? html`<p><strong>${localized(plainWording[kind])}</strong></p>` : ''}<p id="error-message">${locale === 'en' ? message : messageZh}</p></div>
<h2>${t('error.whatToDo')}</h2>
<p id="error-advice">${localized(errorAdvice[kind])}</p>
${back ? html`<p><a class="button" href="${back.href}" id="error-back">${locale === 'en' ? back.labelEn : back.label}</a></p>` : ''}
<div class="technical"><p>${t('error.code')}: <code>${code}</code>${technical ? html` <span lang="en">(${technical})</span>` : ''}</p>
${reference ? html`<p>${t('error.reference')}: <code id="support-reference">${reference}</code></p>` : ''}</div>`,
  });
}
