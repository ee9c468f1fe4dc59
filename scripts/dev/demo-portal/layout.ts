/**
 * The page shell of the demo portals and the demo 公积金 service: one language per page (with its
 * `lang`), a switch to the other that keeps the person where they were, a viewport for phones,
 * large touch targets and strong contrast; no scripts, no external assets.
 */
import { escapeHtml } from '../../../broker/platform/pages/layout.ts';
import { translate, type DemoLanguage } from './messages.ts';

export { escapeHtml };

const style = `
*{box-sizing:border-box}
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;color:#1a202c;background:#f5f7fa;font-size:17px;line-height:1.6}
header{background:#12407f;color:#fff;padding:.8rem 1rem}
header .bar{max-width:48rem;margin:0 auto;display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
header .site{margin:0;font-size:1.25rem;font-weight:600}
header a{color:#fff}
main{max-width:48rem;margin:1.5rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #d2d8e0;border-radius:8px;padding:1rem 1.2rem;margin:0 0 1.2rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.2rem;margin:.2rem 0 .6rem}
h3{font-size:1.05rem;margin:.8rem 0 .2rem}
a{color:#0b4aa2}
.button,button{display:inline-block;min-height:44px;background:#0b4aa2;color:#fff;border:0;border-radius:6px;padding:.55rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer;margin:.2rem .4rem .2rem 0}
.button.secondary{background:#fff;color:#0b4aa2;border:2px solid #0b4aa2}
.button:focus,button:focus,a:focus{outline:3px solid #f0a500;outline-offset:2px}
.choices{list-style:none;padding:0;margin:0}
.choices li{margin:.6rem 0}
.why,.note{color:#3d4852;font-size:.92rem;margin:.1rem 0 0}
table{border-collapse:collapse;width:100%;margin:.6rem 0}
th,td{border-bottom:1px solid #d2d8e0;padding:.45rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:#eef2f7}
tbody th{font-weight:normal;width:34%}
code{font-size:.85rem;color:#3d4852}
.ok{color:#13652e;font-weight:600}
.bad{color:#a31515;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#eef2f7;padding:.6rem;border-radius:6px;font-size:.85rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#0b4aa2;padding:.3rem .6rem}
`;

export interface DemoPageOptions {
  readonly language: DemoLanguage;
  /** The site's name in the header (a portal's or the service's). */
  readonly site: string;
  readonly title: string;
  /** The body inside <main>, already escaped. */
  readonly body: string;
  /** The path the language switch returns to (a GET page of this site). */
  readonly path: string;
}

export function demoPage({ language, site, title, body, path }: DemoPageOptions): string {
  const other = language === 'en' ? 'zh-CN' : 'en';
  const url = new URL(path, 'http://demo.invalid');
  url.searchParams.set('lang', other);
  return `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(site)}</title><style>${style}</style></head><body>
<a class="skip" href="#main">${escapeHtml(translate(language, 'skip'))}</a>
<header><div class="bar"><p class="site">${escapeHtml(site)}</p>
<a id="language-switch" href="${escapeHtml(`${url.pathname}${url.search}`)}" lang="${other}" aria-label="${escapeHtml(translate(other, 'switchLabel'))}: ${escapeHtml(translate(language, 'switchTo'))}">${escapeHtml(translate(language, 'switchTo'))}</a></div></header>
<main id="main"><h1>${escapeHtml(title)}</h1>
${body}
<p class="note">${escapeHtml(translate(language, 'demoNote'))}</p></main></body></html>`;
}

/** A dead end made into a page: what happened, and buttons on. */
export function deadEndPage(options: Omit<DemoPageOptions, 'body'> & { readonly message: string; readonly ways: ReadonlyArray<{ readonly href: string; readonly label: string; readonly id?: string }> }): string {
  const ways = options.ways.map((w, i) => `<a class="button${i > 0 ? ' secondary' : ''}"${w.id ? ` id="${escapeHtml(w.id)}"` : ''} href="${escapeHtml(w.href)}">${escapeHtml(w.label)}</a>`).join(' ');
  return demoPage({ ...options, body: `<div class="card" role="alert"><p id="dead-end">${escapeHtml(options.message)}</p><p>${ways}</p></div>` });
}
