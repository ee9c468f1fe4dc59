/**
 * The `consent` prompt: a page naming the app, its city and the person the consent is about, what
 * the app asks for (scopes, and services it would call on the person's behalf) and, separately, each
 * sensitive item with the purpose the app registered for it — each one a checkbox the person may
 * clear and still sign in (PIPL Art. 29). The decision adds what was accepted to the grant, rejects
 * the refused sensitive items there (the per-app record of the choice), or ends with `access_denied`.
 */
import type { Context } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { readForm } from '../platform/http/body.ts';
import { html, page } from '../platform/pages/layout.ts';
import { cityOf } from '../release/sectors.ts';
import { consentTo, isSensitive, purposeOf, refuse, sensitiveAmong, sensitiveLabels } from '../release/sensitive.ts';
import type { InteractionOptions } from './context.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

const scopeLabels: Record<string, { zh: string; en: string }> = {
  openid: {
    zh: '您的用户标识（同一省份的所有应用共用同一个标识和省级用户号，并非本应用专用）',
    en: 'your user identifier (shared, with your provincial user id, by every app of this province; not specific to this app)',
  },
  profile: { zh: '姓名、性别、出生日期', en: 'name, sex, date of birth' },
  offline_access: { zh: '在您离开后继续访问（刷新令牌）', en: 'continued access after you leave (refresh token)' },
};

const noPurpose = { zh: '未说明用途', en: 'no purpose stated' };

/** The sensitive items this consent is about: those asked for and not yet consented. */
function sensitiveAsked(details: InteractionDetails): string[] {
  const missing = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
  const forced = details.prompt.reasons.includes('consent_prompt');
  const requested = String(details.params.scope ?? '').split(' ');
  return sensitiveAmong(forced ? [...missing, ...requested] : missing);
}

export async function showConsent(options: InteractionOptions, ctx: Context, details: InteractionDetails) {
  const { provider, accounts, cityName } = options;
  const { prompt, params, session } = details;
  const client = await provider.Client.find(String(params.client_id));
  if (!client) throw new errors.InvalidClient('client not found');
  const missing = ((prompt.details.missingOIDCScope as string[] | undefined) ?? []).filter((s) => !isSensitive(s));
  const sensitive = sensitiveAsked(details);
  // Services (RFC 8707 resources) the app would call on the person's behalf, with their scopes.
  const services = Object.entries((prompt.details.missingResourceScopes as Record<string, string[]> | undefined) ?? {});
  const city = cityOf(client);
  // The member city's name; a district without its own record is named by its province.
  const named = async (code: string) => cityName?.(code).catch(() => undefined);
  const cityLabel = city ? ((await named(city)) ?? (await named(`${city.slice(0, 2)}0000`)) ?? `行政区划 ${city}`) : undefined;
  const identity = session?.accountId ? await accounts.load(session.accountId) : undefined;
  const appName = client.clientName ?? client.clientId;
  ctx.type = 'html';
  ctx.body = page({
    title: '授权确认',
    titleEn: 'Share your information?',
    body: html`<p><strong id="app">${appName}</strong>${cityLabel ? html`（<span id="city">${cityLabel}</span>）` : ''} 请求获取以下信息：</p>
<p class="en">${appName}${cityLabel ? ` (${cityLabel})` : ''} asks for:</p>
${identity ? html`<p id="person">本次授权涉及的人员：<strong>${identity.person.name}</strong> <span class="en">· This consent is about ${identity.person.name}</span></p>` : ''}
<p id="identifiers">${scopeLabels.openid!.zh} <span class="en">· ${scopeLabels.openid!.en}</span></p>
<form method="post" action="/interaction/${details.uid}/consent">
<ul>${missing.filter((s) => s !== 'openid').map((s) => html`<li>${scopeLabels[s]?.zh ?? s} <span class="en">· ${scopeLabels[s]?.en ?? s}</span></li>`)}${services.map(([service, scopes]) => html`<li class="service">代您访问 ${service}（${scopes.join(' ')}） <span class="en">· to call ${service} for you (${scopes.join(' ')})</span></li>`)}</ul>
${sensitive.length ? html`<fieldset id="sensitive"><legend>敏感个人信息（单独同意，可不勾选） <span class="en">· Sensitive items: separate consent, you may refuse each</span></legend>
${sensitive.map((s) => {
  const label = sensitiveLabels[s as keyof typeof sensitiveLabels];
  const purpose = purposeOf(client, s);
  return html`<p class="sensitive-item" data-scope="${s}"><label><input type="checkbox" name="sensitive" value="${s}" checked> ${label.zh} <span class="en">· ${label.en}</span></label><br>
<span class="purpose">用途：${purpose ?? noPurpose.zh} <span class="en">· purpose: ${purpose ?? noPurpose.en}</span></span></p>`;
})}
<p>不勾选的项目不会提供给该应用，您仍可登录。您可以随时在“我的登录”页面撤回同意。 <span class="en">· Unticked items are not shared; you still sign in. You can withdraw consent on the account page.</span></p>
</fieldset>` : ''}
<button type="submit" name="decision" value="allow">同意 · Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">拒绝 · Deny</button>
</form>`,
  });
}

export async function decideConsent(provider: Provider, ctx: Context) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== ctx.params.uid || details.prompt.name !== 'consent') throw new errors.SessionNotFound('interaction mismatch');
  const form = await readForm(ctx);
  if (form.get('decision') !== 'allow') {
    await provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'the person declined' }, { mergeWithLastSubmission: false });
    return;
  }
  const { prompt, params, session } = details;
  const grantId = details.grantId;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  if (!grant) throw new errors.SessionNotFound('grant expired');
  const scopes = (prompt.details.missingOIDCScope as string[] | undefined) ?? [];
  grant.addOIDCScope(scopes.filter((s) => !isSensitive(s)).join(' '));
  // Each sensitive item counts only when its own box was ticked; the others are refused.
  const ticked = new Set(form.getAll('sensitive'));
  const asked = sensitiveAsked(details);
  consentTo(grant, asked.filter((s) => ticked.has(s)));
  refuse(grant, asked.filter((s) => !ticked.has(s)));
  const claims = prompt.details.missingOIDCClaims as string[] | undefined;
  if (claims?.length) grant.addOIDCClaims(claims);
  const resourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
  for (const [indicator, list] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, list.join(' '));
  const saved = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
}
