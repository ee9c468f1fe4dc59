/**
 * The dashboard's pages, rendered on the server: sign-in, the dashboard itself (charts drawn by the
 * page script from counts.json), and the answer to an action or a refusal. zh-CN first, English
 * beside it, from the broker's message catalogue (`dashboard.*` in broker/platform/i18n); every value
 * goes through `escapeHtml`; no inline script or style (the policy forbids them).
 */
import { escapeHtml } from '../platform/pages/layout.ts';
import type { OperatorActor } from '../members/actors.ts';
import type { AuditEntry } from '../members/types.ts';
import type { DashboardAssets } from './assets.ts';
import { t, type Locale, type MessageKey } from '../platform/i18n/index.ts';

/** A dashboard wording: the name after `dashboard.` in the catalogue. */
export type DashboardTextKey = NameAfterDashboard<MessageKey>;
type NameAfterDashboard<Key> = Key extends `dashboard.${infer Name}` ? Name : never;

/** One language of a dashboard wording. */
const say = (key: DashboardTextKey, locale: Locale): string => t(`dashboard.${key}`, {}, locale);

/** Both languages of a wording, zh-CN first. */
export const both = (key: DashboardTextKey): string => `${escapeHtml(say(key, 'zh-CN'))}<span class="en" lang="en">${escapeHtml(say(key, 'en'))}</span>`;

export interface DashboardApp {
  readonly client_id: string;
  readonly name: string;
  readonly status: string;
  readonly source: string;
}

export interface DashboardCity {
  readonly code: string;
  readonly name: string;
  readonly apps: readonly DashboardApp[];
}

export interface DashboardView {
  readonly operator: OperatorActor;
  readonly csrf: string;
  readonly base: string;
  readonly assets: DashboardAssets;
  readonly cities: readonly DashboardCity[];
  readonly queue: Readonly<Record<string, { readonly waiting: number; readonly oldestSeconds: number }>>;
  readonly audit: readonly AuditEntry[];
  readonly auditStatus: 'verified' | 'broken' | 'not_checked';
}

function shell(assets: DashboardAssets, body: string, attributes = ''): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(say('title', 'zh-CN'))} · ${escapeHtml(say('title', 'en'))}</title>
<link rel="stylesheet" href="${escapeHtml(assets.style.path)}"></head>
<body${attributes}><h1>${both('title')}</h1>
${body}
</body></html>`;
}

export function signInPage(assets: DashboardAssets, base: string, problem?: DashboardTextKey): string {
  return shell(assets, `${problem ? `<p class="error" role="alert" id="problem">${both(problem)}</p>` : ''}
<h2>${both('signIn')}</h2>
<form method="post" action="${escapeHtml(base)}/session">
<label for="operator-key">${both('operatorKey')}</label>
<input id="operator-key" name="operator_key" type="password" autocomplete="off" size="60" required>
<button type="submit" id="sign-in">${both('signInButton')}</button>
</form>`);
}

export function messagePage(assets: DashboardAssets, base: string, kind: 'ok' | 'error', key: DashboardTextKey, detail?: string, secret?: string): string {
  return shell(assets, `<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}" id="${kind === 'error' ? 'problem' : 'result'}">${both(key)}${detail ? ` — ${escapeHtml(detail)}` : ''}</p>
${secret ? `<p>${both('newSecret')}: <code id="new-secret">${escapeHtml(secret)}</code></p>` : ''}
<p><a href="${escapeHtml(base)}">${both('back')}</a></p>`);
}

function appRow(app: DashboardApp, view: DashboardView): string {
  const action = (name: string, label: DashboardTextKey) => `<form class="inline" method="post" action="${escapeHtml(`${view.base}/dashboard/apps/${encodeURIComponent(app.client_id)}/${name}`)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}"><button type="submit" data-app="${escapeHtml(app.client_id)}" data-action="${name}">${both(label)}</button></form>`;
  const actions = app.source !== 'registry' ? '' : app.status === 'suspended' ? action('resume', 'resume') : `${action('suspend', 'suspend')}${action('rotate-secret', 'rotate')}`;
  return `<tr data-client="${escapeHtml(app.client_id)}"><td><code>${escapeHtml(app.client_id)}</code></td><td>${escapeHtml(app.name)}</td><td class="${escapeHtml(app.status)}">${escapeHtml(app.status)}</td><td>${actions}</td></tr>`;
}

export function dashboardPage(view: DashboardView): string {
  const { operator, base } = view;
  const scope = operator.role === 'province' ? `${both('scopeProvince')} ${escapeHtml(operator.province ?? '')}` : both('scopeFederation');
  const charts = (window: 'hour' | 'day', title: DashboardTextKey) => `<h2>${both(title)} · ${both('logins')}: <output id="${window}-logins">…</output></h2>
<div class="charts"><div class="chart"><canvas id="${window}-chart"></canvas></div>
<div class="chart"><canvas id="${window}-reasons" aria-label="${escapeHtml(say('reasons', 'en'))}"></canvas></div>
<div class="chart"><canvas id="${window}-provinces" aria-label="${escapeHtml(say('byProvince', 'en'))}"></canvas></div>
<div class="chart"><canvas id="${window}-cities" aria-label="${escapeHtml(say('byCity', 'en'))}"></canvas></div></div>`;
  const queue = Object.entries(view.queue);
  const audit = view.auditStatus === 'verified' ? 'auditVerified' : view.auditStatus === 'broken' ? 'auditBroken' : 'auditNotChecked';
  const body = `<p id="operator">${both('signedInAs')}: ${escapeHtml(operator.name)} (${scope})</p>
<form method="post" action="${escapeHtml(base)}/session/end"><input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}"><button type="submit" id="sign-out">${both('signOut')}</button></form>
<p id="status" role="status"></p>
${charts('hour', 'lastHour')}
${charts('day', 'lastDay')}
<h2>${both('logoutQueue')}</h2>
${queue.length ? `<table id="logout-queue"><tr><th>province</th><th>waiting</th><th>oldest (s)</th></tr>${queue.map(([province, q]) => `<tr><td>${escapeHtml(province)}</td><td>${q.waiting}</td><td>${Math.round(q.oldestSeconds)}</td></tr>`).join('')}</table>` : `<p id="logout-queue">${both('queueEmpty')}</p>`}
<h2>${both('cities')}</h2>
<table id="cities">${view.cities.map((city) => `<tr class="city" data-city="${escapeHtml(city.code)}"><th colspan="4">${escapeHtml(city.code)} ${escapeHtml(city.name)}</th></tr>${city.apps.map((app) => appRow(app, view)).join('')}`).join('')}</table>
<h2>${both('audit')} · <span id="audit-status" data-status="${view.auditStatus}">${both(audit)}</span></h2>
<table id="audit"><tr><th>at</th><th>action</th><th>target</th><th>city</th></tr>${view.audit.map((entry) => `<tr><td>${escapeHtml(entry.at)}</td><td>${escapeHtml(entry.action)}</td><td>${escapeHtml(`${entry.target.type} ${entry.target.id}`)}</td><td>${escapeHtml(entry.city ?? '')}</td></tr>`).join('')}</table>
<script src="${escapeHtml(view.assets.chart.path)}"></script>
<script src="${escapeHtml(view.assets.script.path)}"></script>`;
  return shell(view.assets, body, ` data-counts="${escapeHtml(`${base}/dashboard/counts.json`)}"`);
}
