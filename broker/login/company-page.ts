/**
 * The company choice page, in the request's language: one radio button per organisation the
 * person may act for now. Every value goes through the escaping `html` template.
 */
import { plainChinaTime } from '../../adapters/formats.ts';
import type { Representation } from '../identity/model.ts';
import { currentLocale, t, textOf, type MessageKey } from '../platform/i18n/index.ts';
import { html, page, raw, th } from '../platform/pages/layout.ts';

const choiceStyle = raw(`<style>
.companies{list-style:none;padding:0;margin:0}
.companies li{border:1px solid #8a96a3;border-radius:8px;margin:.6rem 0;padding:.7rem .9rem}
.companies label{display:flex;gap:.7rem;align-items:flex-start;cursor:pointer;min-height:44px}
.companies input{margin-top:.35rem}
.companies .facts{color:#3e4c59;font-size:.9rem;line-height:1.5}
.elder .companies .facts{color:#000;font-size:1.1rem}
fieldset.choice{border:0;padding:0;margin:0}
</style>`);

export interface ChoicePageOptions {
  readonly action: string;
  readonly clientName: string;
  readonly eligible: readonly Representation[];
  /** Pre-selected: the session's current choice; otherwise none (the person chooses, never a default). */
  readonly selected?: string;
}

/** A mandate scope as the national platform names it; an unknown one is shown as it comes. */
function scopeName(scope: string): string {
  const key = `company.scope.${scope}`;
  return textOf(key) ? t(key as MessageKey) : scope;
}

function mandateLine(r: Representation) {
  if (!r.mandate) return html`<br>${t('company.noMandate')}`;
  const until = plainChinaTime(r.mandate.expiresAt).slice(0, 10);
  return html`<br>${t('company.mandate', { scopes: r.mandate.scope.map(scopeName).join(currentLocale() === 'en' ? ', ' : '、'), until })}`;
}

export function companyChoicePage({ action, clientName, eligible, selected }: ChoicePageOptions): string {
  const checked = eligible.some((r) => r.creditCode === selected) ? selected : undefined;
  return page({
    title: t('company.title'),
    body: html`${choiceStyle}<p id="company-intro">${th('company.intro', { app: html`<strong>${clientName}</strong>` })}</p>
<form method="post" action="${action}">
<fieldset class="choice" aria-describedby="company-intro"><legend class="visually-hidden">${t('company.legend')}</legend>
<ul class="companies">${eligible.map((r) => html`<li><label><input type="radio" name="credit_code" value="${r.creditCode}"${r.creditCode === checked ? raw(' checked') : ''} required>
<span><strong>${r.name}</strong><span class="facts"><br>${t('company.creditCode')} <code>${r.creditCode}</code><br>${t('company.role', { role: t(`company.role.${r.role}`) })}${mandateLine(r)}</span></span></label></li>`)}</ul>
</fieldset>
<button type="submit" name="decision" value="act">${t('company.continue')}</button>
<button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>${t('company.cancel')}</button>
</form>
<p>${t('company.expiredNotListed')}</p>`,
  });
}
