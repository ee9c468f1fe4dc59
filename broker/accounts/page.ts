/**
 * `/account`: the signed-in person's own view of their broker session — which apps, by province,
 * really received their information (the release log: items and when), the sensitive items each
 * app holds consent for with a button to withdraw it ("撤回": the live grant and the app's consent
 * record, release/consent-records.ts, so from the next token on and the next sign-in asks), and the
 * assurance level — with one button that signs out everywhere. The button posts to oidc-provider's own logout confirmation
 * (`/session/end/confirm`, `logout=yes`), so it runs exactly the single logout a portal starts:
 * every app is sent a back-channel logout token and the national session ends too.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import { plainChinaTime } from '../../adapters/formats.ts';
import { adapterForDivision } from '../../adapters/registry.ts';
import { levelOfAcr } from '../identity/assurance.ts';
import { provinceOf } from '../identity/identifiers.ts';
import type { Logger } from '../platform/log.ts';
import { currentLocale, localized, t } from '../platform/i18n/index.ts';
import { html, page, th, type Html } from '../platform/pages/layout.ts';
import { routes } from '../../config/defaults.ts';
import { cityOf } from '../release/sectors.ts';
import type { ReleaseLog, ReleaseNote } from '../release/release-log.ts';
import { grantedSensitive, refuse, sensitiveLabels, type SensitiveScope } from '../release/sensitive.ts';
import type { ConsentRecords } from '../release/consent-records.ts';
import { readForm } from '../platform/http/body.ts';

export const accountPagePath = routes.account;
export const withdrawConsentPath = `${routes.account}/withdraw`;

interface AppSeen {
  readonly clientId: string;
  readonly name: string;
  readonly note: ReleaseNote;
  /** Sensitive items the app holds consent for now (withdrawable). */
  readonly consented: SensitiveScope[];
}

const itemLabels: Record<string, { zh: string; en: string }> = {
  openid: { zh: '用户标识', en: 'identifier' },
  profile: { zh: '姓名等基本信息', en: 'name and basic details' },
  offline_access: { zh: '离线访问', en: 'offline access' },
  ...sensitiveLabels,
};

interface ProvinceSeen {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly platform: string | undefined;
  readonly apps: AppSeen[];
}

const levelNames: Record<number, { zh: string; en: string }> = {
  1: { zh: '未实名', en: 'not verified' },
  2: { zh: '初级实名', en: 'basic real-name' },
  3: { zh: '高级实名', en: 'advanced real-name' },
  4: { zh: '实人实名实证', en: 'person verified' },
};

/** `yyyy-MM-dd HH:mm` in China time. */
function chinaTime(epochSeconds: number | undefined): string {
  return epochSeconds ? plainChinaTime(epochSeconds).slice(0, 16) : '—';
}

export interface AccountPageOptions {
  readonly provider: Provider;
  readonly logger: Logger;
  /** Who received what (release/release-log.ts); without it no app is listed. */
  readonly releases?: ReleaseLog;
  /** The answers on sensitive items per app, kept across sessions; withdrawal updates them. */
  readonly consents?: ConsentRecords;
}

export function createAccountPage({ provider, logger, releases, consents }: AccountPageOptions): Router {
  const router = new Router();

  router.get(accountPagePath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.set('x-frame-options', 'DENY');
    ctx.type = 'html';
    const session = await provider.Session.get(ctx);
    if (!session.accountId) {
      ctx.body = page({
        title: t('account.title'),
        body: html`<p id="signed-out">${t('account.signedOut')}</p>`,
      });
      return;
    }

    const provinces = new Map<string, ProvinceSeen>();
    // Only apps that really received tokens: an app that refused the person is not listed.
    for (const note of releases ? await releases.list(session.accountId) : []) {
      const { clientId } = note;
      const client = note.system ? undefined : await provider.Client.find(clientId).catch(() => undefined);
      const city = note.system?.city ?? cityOf(client);
      const code = city ? provinceOf(city) : 'unknown';
      const adapter = city ? adapterForDivision(city) : undefined;
      let province = provinces.get(code);
      if (!province) {
        province = {
          code,
          name: adapter?.name ?? (city ? `行政区划 ${code}` : '其他'),
          nameEn: adapter ? adapter.id.charAt(0).toUpperCase() + adapter.id.slice(1) : city ? `division ${code}` : 'other',
          platform: adapter?.platform,
          apps: [],
        };
        provinces.set(code, province);
      }
      const grantId = session.grantIdFor(clientId);
      const grant = grantId ? await provider.Grant.find(grantId) : undefined;
      // Without a grant in this session, what the app's consent record allows (a later sign-in uses it).
      const consented = grant ? grantedSensitive(grant) : note.system ? [] : [...((await consents?.find(session.accountId, clientId))?.allowed ?? [])];
      province.apps.push({ clientId, name: note.system?.name ?? client?.clientName ?? clientId, note, consented });
    }

    // A fresh logout secret for the form below, as oidc-provider's own logout page makes one.
    const secret = randomBytes(24).toString('hex');
    session.state = { secret };
    await session.persist();

    const level = session.acr ? levelOfAcr(session.acr) : undefined;
    const levelText = level ? levelNames[level] : undefined;
    const english = currentLocale() === 'en';
    const list: Html[] = [...provinces.values()].map((p) => html`<li class="province" data-province="${p.code}"><strong>${english ? p.nameEn : p.name}</strong>${p.platform ? html` · ${p.platform}` : ''}
<ul>${p.apps.map((app) => appItem(app, secret))}</ul></li>`);
    logger.debug('account_page_shown', { provinces: provinces.size });
    ctx.body = page({
      title: t('account.title'),
      body: html`<p>${th('account.signedIn', { level: levelText ? th('account.level', { level: html`<strong id="level">${localized(levelText)}</strong>` }) : '', time: chinaTime(session.loginTs) })}</p>
<h2>${t('account.reached')}</h2>
${list.length ? html`<ul id="reached">${list}</ul>` : html`<p id="reached-none">${t('account.reachedNone')}</p>`}
<form id="logout-everywhere" method="post" action="${new URL(provider.urlFor('end_session_confirm')).pathname}">
<input type="hidden" name="xsrf" value="${secret}">
<p>${t('account.signOutEverywhereNote')}</p>
<button type="submit" name="logout" value="yes">${t('account.signOutEverywhere')}</button>
</form>`,
    });
  });

  // 撤回: the app's grant rejects its sensitive items, so the next token, refresh or userinfo
  // answer no longer carries them; a later sign-in asks the person again.
  router.post(withdrawConsentPath, async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const session = await provider.Session.get(ctx);
    const form = await readForm(ctx);
    const secret = (session.state as { secret?: unknown } | undefined)?.secret;
    if (!session.accountId || typeof secret !== 'string' || form.get('xsrf') !== secret) {
      ctx.status = 303;
      ctx.redirect(accountPagePath);
      return;
    }
    const clientId = form.get('client') ?? '';
    const grantId = session.grantIdFor(clientId);
    const grant = grantId ? await provider.Grant.find(grantId) : undefined;
    const record = clientId ? await consents?.find(session.accountId, clientId) : undefined;
    const withdrawn = [...new Set([...(grant ? grantedSensitive(grant) : []), ...(record?.allowed ?? [])])];
    if (grant) {
      refuse(grant, withdrawn);
      await grant.save();
    }
    if (record) await consents?.withdraw(session.accountId, clientId, withdrawn);
    if (grant || record) logger.info('consent_withdrawn', { client: clientId, items: withdrawn.join(' ') });
    ctx.status = 303;
    ctx.redirect(accountPagePath);
  });

  return router;
}

function appItem(app: AppSeen, secret: string): Html {
  const items = app.note.items.filter((item) => item !== 'openid');
  return html`<li class="app" data-client="${app.clientId}">${app.name}
<span class="items">${items.map((item, i) => html`${i ? t('account.listSeparator') : ''}<span class="item" data-item="${item}">${itemLabels[item] ? localized(itemLabels[item]) : item}</span>`)}</span>
<span class="when">（${chinaTime(app.note.first)}${app.note.last !== app.note.first ? html` — ${chinaTime(app.note.last)}` : ''}）</span>
${app.consented.length ? html`<form class="withdraw" id="withdraw-${app.clientId}" method="post" action="${withdrawConsentPath}"><input type="hidden" name="xsrf" value="${secret}"><input type="hidden" name="client" value="${app.clientId}">
<button type="submit" class="secondary">${t('account.withdraw', { items: app.consented.map((s) => localized(sensitiveLabels[s])).join(t('account.listSeparator')) })}</button></form>` : ''}</li>`;
}
