/**
 * The broker's pages for people: small, server-rendered, Chinese first with English beneath.
 * Every value interpolated into HTML goes through `escapeHtml`.
 */
import { currentRequestId } from '../log.ts';

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

const style = `
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f3f5f8;color:#1f2933;margin:0}
main{max-width:34rem;margin:4rem auto;background:#fff;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.2rem}
header{display:flex;align-items:center;gap:.6rem;margin-bottom:1.2rem;color:#b4232a;font-weight:600}
h1{font-size:1.35rem;margin:.2rem 0 .3rem}
.en{color:#66788a;font-size:.9rem;margin-top:.1rem}
p{line-height:1.6}
button,.button{display:inline-block;background:#b4232a;color:#fff;border:0;border-radius:6px;padding:.6rem 1.4rem;font-size:1rem;cursor:pointer;text-decoration:none;margin:.3rem .4rem .3rem 0}
button.secondary,.button.secondary{background:#e4e7eb;color:#1f2933}
ul{padding-left:1.2rem} li{margin:.25rem 0}
code{background:#f0f2f5;padding:.1rem .3rem;border-radius:4px}
.error-code{color:#66788a;font-size:.8rem;margin-top:1.5rem}
`;

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

export interface PageOptions {
  readonly title: string;
  readonly titleEn: string;
  readonly body: Html;
  readonly status?: number;
}

export function page({ title, titleEn, body }: PageOptions): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(titleEn)}</title><style>${style}</style></head>
<body><main><header>通办 tongban · 长三角一网通办统一身份认证</header>
<h1>${escapeHtml(title)}</h1><div class="en">${escapeHtml(titleEn)}</div>
${body.html}
</main></body></html>`;
}

export interface ErrorPageOptions {
  readonly code: string;
  readonly message: string;
  readonly messageZh: string;
  /** Where the person can go next. */
  readonly back?: { readonly href: string; readonly label: string; readonly labelEn: string };
  /** The support reference: the request id (`x-request-id`); default: the request being served. */
  readonly reference?: string;
}

export function errorPage({ code, message, messageZh, back, reference = currentRequestId() }: ErrorPageOptions): string {
  return page({
    title: '无法完成请求',
    titleEn: 'The request could not be completed',
    body: html`<p>${messageZh}</p><p class="en">${message}</p>
${back ? html`<p><a class="button" href="${back.href}">${back.label} · ${back.labelEn}</a></p>` : html`<p class="en">请返回您访问的服务重新开始。 · Please go back to the service you came from and start again.</p>`}
<div class="error-code">错误代码 Error code: <code>${code}</code></div>
${reference ? html`<div class="error-code">查询编号 Support reference: <code>${reference}</code></div>` : false}`,
  });
}
