/**
 * The `consent` prompt: a page naming the app, its city and the person the consent is about, what
 * the app asks for (scopes, and services it would call on the person's behalf) and, separately, each
 * sensitive item with the purpose the app registered for it — each one a checkbox the person may
 * clear and still sign in (PIPL Art. 29). The decision adds what was accepted to the grant, rejects
 * the refused sensitive items there, and keeps the answers in the app's consent record
 * (release/consent-records.ts) so a later sign-in does not ask again; or it ends with `access_denied`.
 */
import type { Context } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { readForm } from '../platform/http/body.ts';
import { localized, t, textOf, type MessageKey } from '../platform/i18n/index.ts';
import { html, page, th } from '../platform/pages/layout.ts';
import { cityOf } from '../release/sectors.ts';
import { consentTo, isSensitive, purposeOf, refuse, sensitiveAmong, sensitiveLabels } from '../release/sensitive.ts';
import { applyConsentRecord, type ConsentRecords } from '../release/consent-records.ts';
import type { InteractionOptions } from './context.ts';
import { finishInteraction, interactionDetails, type InteractionDetails } from './interaction.ts';
import { routePath, routes } from '../../config/defaults.ts';

/** An OIDC scope as the catalogue words it (`consent.scope.<scope>`); an unknown one as it comes. */
function scopeLabel(scope: string): string {
  const key = `consent.scope.${scope}`;
  return textOf(key) ? t(key as MessageKey) : scope;
}

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
  const cityLabel = city ? ((await named(city)) ?? (await named(`${city.slice(0, 2)}0000`)) ?? t('consent.division', { code: city })) : undefined;
  const identity = session?.accountId ? await accounts.load(session.accountId) : undefined;
  const appName = client.clientName ?? client.clientId;
  ctx.type = 'html';
  ctx.body = page({
    title: t('consent.title'),
    body: html`<p>${th('consent.asks', { app: html`<strong id="app">${appName}</strong>`, city: cityLabel ? th('consent.city', { city: html`<span id="city">${cityLabel}</span>` }) : '' })}</p>
${identity ? html`<p id="person">${th('consent.person', { name: html`<strong>${identity.person.name}</strong>` })}</p>` : ''}
<p id="identifiers">${t('consent.scope.openid')}</p>
<form method="post" action="${routePath(routes.interaction.consent, details.uid)}">
<ul>${missing.filter((s) => s !== 'openid').map((s) => html`<li>${scopeLabel(s)}</li>`)}${services.map(([service, scopes]) => html`<li class="service">${t('consent.service', { service, scopes: scopes.join(' ') })}</li>`)}</ul>
${sensitive.length ? html`<fieldset id="sensitive"><legend>${t('consent.sensitive')}</legend>
${sensitive.map((s) => {
  const label = sensitiveLabels[s as keyof typeof sensitiveLabels];
  const purpose = purposeOf(client, s);
  return html`<p class="sensitive-item" data-scope="${s}"><label><input type="checkbox" name="sensitive" value="${s}" checked> ${localized(label)}</label><br>
<span class="purpose">${t('consent.purpose', { purpose: purpose ?? t('consent.noPurpose') })}</span></p>`;
})}
<p>${t('consent.unticked')}</p>
</fieldset>` : ''}
<button type="submit" name="decision" value="allow">${t('consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${t('consent.deny')}</button>
</form>`,
  });
}

export async function decideConsent(provider: Provider, ctx: Context, consents?: ConsentRecords) {
  const details = await interactionDetails(provider, ctx);
  if (details.uid !== ctx.params.uid || details.prompt.name !== 'consent') throw new errors.SessionNotFound('interaction mismatch');
  const form = await readForm(ctx);
  if (form.get('decision') !== 'allow') {
    await finishInteraction(ctx, details, { error: 'access_denied', error_description: 'the person declined' }, { mergeWithLastSubmission: false });
    return;
  }
  const { prompt, params, session } = details;
  const grantId = details.grantId;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  if (!grant) throw new errors.SessionNotFound('grant expired');
  const accountId = session!.accountId!;
  const clientId = String(params.client_id);
  // A grant made here (none was loaded) starts from the answers the person gave this app before.
  if (!grantId) applyConsentRecord(grant, await consents?.find(accountId, clientId));
  const scopes = (prompt.details.missingOIDCScope as string[] | undefined) ?? [];
  grant.addOIDCScope(scopes.filter((s) => !isSensitive(s)).join(' '));
  // Each sensitive item counts only when its own box was ticked; the others are refused.
  const ticked = new Set(form.getAll('sensitive'));
  const asked = sensitiveAsked(details);
  const allowed = asked.filter((s) => ticked.has(s));
  const refused = asked.filter((s) => !ticked.has(s));
  consentTo(grant, allowed);
  refuse(grant, refused);
  if (asked.length) await consents?.decide(accountId, clientId, { allowed, refused });
  const claims = prompt.details.missingOIDCClaims as string[] | undefined;
  if (claims?.length) grant.addOIDCClaims(claims);
  const resourceScopes = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
  for (const [indicator, list] of Object.entries(resourceScopes ?? {})) grant.addResourceScope(indicator, list.join(' '));
  const saved = await grant.save();
  await finishInteraction(ctx, details, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
}
