/**
 * The company choice page: Chinese first, English beneath, one radio button per organisation the
 * person may act for now. Every value goes through the escaping `html` template.
 */
import { plainChinaTime } from '../../adapters/formats.ts';
import type { Representation, RepresentationRole } from '../identity/model.ts';
import { html, page, raw } from '../platform/pages/layout.ts';

const roleLabels: Record<RepresentationRole, { zh: string; en: string }> = {
  legal_representative: { zh: '法定代表人', en: 'legal representative' },
  agent: { zh: '经办人', en: 'authorised agent' },
};

/** Mandate scopes as the national platform names them; unknown ones are shown as they come. */
const mandateScopeLabels: Record<string, { zh: string; en: string }> = {
  tax: { zh: '税务', en: 'tax' },
  social_insurance: { zh: '社保', en: 'social insurance' },
  business_registration: { zh: '工商登记', en: 'business registration' },
};

const choiceStyle = raw(`<style>
.companies{list-style:none;padding:0}
.companies li{border:1px solid #d9dee4;border-radius:8px;margin:.6rem 0;padding:.7rem .9rem}
.companies label{display:flex;gap:.7rem;align-items:flex-start;cursor:pointer}
.companies input{margin-top:.35rem}
.companies .facts{color:#52606d;font-size:.88rem;line-height:1.5}
</style>`);

export interface ChoicePageOptions {
  readonly action: string;
  readonly clientName: string;
  readonly eligible: readonly Representation[];
  /** Pre-selected: the session's current choice, else the first. */
  readonly selected?: string;
}

function mandateLine(r: Representation) {
  if (!r.mandate) return html`<br>不需授权 · no mandate needed`;
  const until = plainChinaTime(r.mandate.expiresAt).slice(0, 10);
  const zh = r.mandate.scope.map((s) => mandateScopeLabels[s]?.zh ?? s).join('、');
  const en = r.mandate.scope.map((s) => mandateScopeLabels[s]?.en ?? s).join(', ');
  return html`<br>授权事项 ${zh} · 有效期至 ${until}<br><span class="en">mandate: ${en}, valid until ${until}</span>`;
}

export function companyChoicePage({ action, clientName, eligible, selected }: ChoicePageOptions): string {
  const checked = eligible.some((r) => r.creditCode === selected) ? selected : eligible[0]?.creditCode;
  return page({
    title: '选择办事企业',
    titleEn: 'Choose the company you act for',
    body: html`${choiceStyle}<p><strong>${clientName}</strong> 请求以企业（法人）身份登录。根据国家政务服务平台的记录，您目前可以代表以下企业或组织办事，请选择本次要代表的一家：</p>
<p class="en">${clientName} asks for a company login. The national government service platform says you may act for these organisations now; choose the one you act for:</p>
<form method="post" action="${action}">
<ul class="companies">${eligible.map((r) => html`<li><label><input type="radio" name="credit_code" value="${r.creditCode}"${r.creditCode === checked ? raw(' checked') : ''}>
<span><strong>${r.name}</strong><span class="facts"><br>统一社会信用代码 · credit code <code>${r.creditCode}</code><br>您的身份 ${roleLabels[r.role].zh} · your role: ${roleLabels[r.role].en}${mandateLine(r)}</span></span></label></li>`)}</ul>
<button type="submit" name="decision" value="act">以所选企业身份继续 · Continue for this company</button>
<button type="submit" name="decision" value="cancel" class="secondary">取消 · Cancel</button>
</form>
<p class="en">已过期或已撤销的授权不会列出。 · Expired or revoked mandates are not listed.</p>`,
  });
}
