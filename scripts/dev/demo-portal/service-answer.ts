/**
 * The 公积金 service's JSON answer as the portal shows it to a person: a table of labelled facts
 * (money in yuan, words for levels) instead of one long line of JSON; refusals in one sentence.
 */
import { escapeHtml } from './layout.ts';
import { translate, type DemoLanguage } from './messages.ts';
import { wordingIn, type Wording } from '../wording.ts';

const fields: Record<string, Wording> = {
  service: { zh: '办理机构', en: 'office' },
  city: { zh: '行政区划代码', en: 'division code' },
  holder: { zh: '上海用户标识', en: 'Shanghai subject' },
  account: { zh: '公积金账号', en: 'fund account' },
  balance_cny: { zh: '账户余额（元）', en: 'balance (CNY)' },
  monthly_deposit_cny: { zh: '月缴存额（元）', en: 'monthly deposit (CNY)' },
  status: { zh: '缴存状态', en: 'status' },
  requested_by: { zh: '查询的门户', en: 'asked by' },
  on_behalf_via: { zh: '代为调用', en: 'on behalf via' },
  assurance: { zh: '认证等级', en: 'assurance level' },
};

const money = new Set(['balance_cny', 'monthly_deposit_cny']);

export function serviceAnswerTable(body: string, language: DemoLanguage): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object') return `<p class="bad">${escapeHtml(translate(language, 'serviceFailed', { code: body.slice(0, 60) }))}</p>`;
  const answer = parsed as Record<string, unknown>;
  if (typeof answer.error === 'string') return `<p class="bad">${escapeHtml(translate(language, 'serviceFailed', { code: answer.error }))}</p>`;
  const rows = Object.entries(answer).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => {
    const label = fields[k] ? wordingIn(fields[k], language) : k;
    const value = money.has(k) && typeof v === 'number'
      ? v.toLocaleString(language === 'en' ? 'en-GB' : 'zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
      : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `<tr data-field="${escapeHtml(k)}"><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
  });
  return `<table id="service-table"><tbody>${rows.join('')}</tbody></table>`;
}

/** The company a login acts for, in any province's dialect, or undefined for a personal login. */
export function companyNameOf(claims: Record<string, unknown>): string | undefined {
  for (const name of ['CompanyName', 'zwdtswCorpName', 'corpName', 'wst_org_name']) {
    if (typeof claims[name] === 'string') return claims[name];
  }
  return undefined;
}
