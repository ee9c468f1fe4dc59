/**
 * The pages' languages and display modes: every catalogue key has both languages (with the same
 * placeholders), the request's language is chosen in the documented order, and the switch route
 * remembers a choice and goes back to a same-origin path only (no open redirect).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { choosePresentation, currentPresentation, everyText, safeReturnPath, t, withPresentation } from '../../broker/platform/i18n/index.ts';
import { describeError } from '../../broker/platform/errors.ts';
import { errorPage, page, html } from '../../broker/platform/pages/layout.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogue', () => {
  it('has every key in Chinese and English, with the same placeholders', () => {
    const problems: string[] = [];
    for (const [key, text] of everyText()) {
      if (!text.zh?.trim()) problems.push(`${key}: no Chinese`);
      if (!text.en?.trim()) problems.push(`${key}: no English`);
      if (text.zh && text.en && placeholders(text.zh).join() !== placeholders(text.en).join()) problems.push(`${key}: placeholders differ`);
    }
    assert.deepEqual(problems, []);
  });

  it('fails a key that lacks a language (the check above is not vacuous)', () => {
    const broken: Array<[string, { zh?: string; en?: string }]> = [...everyText(), ['broken', { zh: '只有中文' }]];
    assert.ok(broken.some(([, text]) => !text.en?.trim()));
  });

  it('words a page in one language with the right lang attribute, and the display mode', () => {
    const zh = withPresentation({ locale: 'zh-CN', mode: 'standard', returnTo: '/account', switchPath: '/preferences' }, () => page({ title: t('account.title'), body: html`<p>${t('account.signedOut')}</p>` }));
    assert.match(zh, /<html lang="zh-CN">/);
    assert.match(zh, /您目前没有登录/);
    assert.doesNotMatch(zh, /You are not signed in/);
    assert.match(zh, /<meta name="viewport"/);
    assert.match(zh, /href="\/preferences\?lang=en&amp;return=%2Faccount"/);
    const en = withPresentation({ locale: 'en', mode: 'elder', returnTo: '/account', switchPath: '/preferences' }, () => page({ title: t('account.title'), body: html`<p>${t('account.signedOut')}</p>` }));
    assert.match(en, /<html lang="en" class="elder">/);
    assert.match(en, /You are not signed in/);
    assert.doesNotMatch(en, /您目前没有登录/);
  });

  it('gives an error page what happened (announced), what to do, and the support reference; plain words in 适老化 mode', () => {
    const described = describeError('upstream_unavailable');
    const en = withPresentation({ locale: 'en', mode: 'standard', returnTo: '/', switchPath: '/preferences' }, () => errorPage({ ...described, reference: 'req-12345678', back: { href: '/back', label: '返回服务', labelEn: 'Back to the service' } }));
    assert.match(en, /role="alert"[^]*national government service platform cannot be reached/);
    assert.match(en, /What you can do/);
    assert.match(en, /Back to the service/);
    assert.match(en, /req-12345678/);
    assert.doesNotMatch(en.replace(/<nav[^]*?<\/nav>/, ''), /[\u4e00-\u9fff]/, 'no Chinese on an English page but the switch to Chinese');
    const elder = withPresentation({ locale: 'zh-CN', mode: 'elder', returnTo: '/', switchPath: '/preferences' }, () => errorPage({ ...described }));
    assert.match(elder, /现在连不上国家政务服务平台/);
    assert.match(elder, /没有办成/);
  });
});

describe('choosing the language and display mode', () => {
  let server: Server;
  let base: string;
  const interactions = new Map<string, { uiLocales?: unknown; createdAt?: number }>();

  before(async () => {
    const app = new Koa();
    app.use(choosePresentation({ cookiePrefix: 'tb', switchPath: '/preferences', fallbackPath: '/account', interactionLocales: async (uid) => interactions.get(uid) }));
    app.use((ctx) => {
      const { locale, mode, returnTo } = currentPresentation();
      ctx.body = { locale, mode, returnTo };
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const chosen = async (path: string, headers: Record<string, string> = {}) => (await (await fetch(`${base}${path}`, { headers })).json()) as { locale: string; mode: string; returnTo: string };

  it('defaults to Chinese, follows Accept-Language, then the cookie, then ui_locales', async () => {
    assert.equal((await chosen('/x')).locale, 'zh-CN');
    assert.equal((await chosen('/x', { 'accept-language': 'en-GB,en;q=0.8' })).locale, 'en');
    assert.equal((await chosen('/x', { 'accept-language': 'en-GB', cookie: 'tb_lang=zh-CN.1' })).locale, 'zh-CN');
    assert.equal((await chosen('/auth?ui_locales=fr%20en', { cookie: 'tb_lang=zh-CN.1' })).locale, 'en');
    assert.equal((await chosen('/x', { cookie: 'tb_display=elder' })).mode, 'elder');
  });

  it('reads a login\'s ui_locales on its interaction pages, unless the person switched since it began', async () => {
    interactions.set('abc', { uiLocales: 'en', createdAt: 2000 });
    assert.equal((await chosen('/interaction/abc/company')).locale, 'en');
    assert.equal((await chosen('/interaction/abc', { cookie: 'tb_lang=zh-CN.1000' })).locale, 'en', 'a choice older than the login');
    assert.equal((await chosen('/interaction/abc', { cookie: 'tb_lang=zh-CN.3000' })).locale, 'zh-CN', 'a switch during the login');
  });

  it('the switch remembers the choice and returns to the same page, never to another site', async () => {
    const answer = await fetch(`${base}/preferences?lang=en&display=elder&return=${encodeURIComponent('/interaction/abc?x=1')}`, { redirect: 'manual' });
    assert.equal(answer.status, 303);
    assert.equal(answer.headers.get('location'), '/interaction/abc?x=1');
    const cookies = answer.headers.getSetCookie().join(';');
    assert.match(cookies, /tb_lang=en\.\d+/);
    assert.match(cookies, /tb_display=elder/);
    for (const evil of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)', '/%0d%0aset-cookie:x', 'evil']) {
      const refused = await fetch(`${base}/preferences?lang=en&return=${encodeURIComponent(evil)}`, { redirect: 'manual' });
      assert.equal(refused.headers.get('location'), evil === '/%0d%0aset-cookie:x' ? '/%0d%0aset-cookie:x' : '/account', evil);
    }
    assert.equal(safeReturnPath('/\tevil'), undefined);
  });

  it('gives each page the path it was served at as the switch\'s return', async () => {
    assert.equal((await chosen('/interaction/abc/company?y=2')).returnTo, '/interaction/abc/company?y=2');
  });
});
