/**
 * Shared set-up of the Zhejiang legacy bridge tests: a federation with three registered legacy
 * systems (one a real HTTP system written from the provincial documentation), a browser walk
 * through `sso/usp.do`, and `simpleauth` calls signed the way a system signs them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredClient, ConfiguredLegacySystem } from '../../../config/defaults.ts';
import type { Browser } from '../../support/browser.ts';
import { acceptConsent, relyingParty, startFederation, type Federation, type RelyingParty } from '../../support/federation.ts';
import { startZhejiangLegacySystem, type ZhejiangLegacySystem } from '../../fixtures/zhejiang-legacy-system.ts';

export const subjectSecret = 'legacy-zhejiang-test-subject-secret-0123456789';
export const unserved = 'http://127.0.0.1:9';

export const portal: ConfiguredClient = {
  client_id: 'jiaxing-portal',
  client_secret: 'jiaxing-portal-secret',
  city: '330400',
  redirect_uris: [`${unserved}/jiaxing/callback`],
  post_logout_redirect_uris: [`${unserved}/jiaxing/logged-out`],
  scope: 'openid profile phone id_number',
  first_party: true,
};
export const jiaxingFund = { serviceCode: 'jx-gjj', servicePassword: 'jx-gjj-service-password-2027' };
export const hangzhouQueue: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330100',
  serviceCode: 'hz-queue',
  name: '杭州排队叫号',
  callbackUrl: `${unserved}/hz-queue/callback`,
  servicePassword: 'hz-queue-service-password',
  scopes: [],
};
export const ningboTax: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330200',
  serviceCode: 'nb-tax',
  name: '宁波办税',
  callbackUrl: `${unserved}/nb-tax/callback?from=tongban`,
  servicePassword: 'nb-tax-service-password-000',
  scopes: ['profile', 'phone', 'id_number'],
};

export function beijingTime(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
}
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

export interface SimpleauthAnswer {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, string>;
}

/** The running bridge and the steps a legacy system takes against it. */
export interface ZhejiangBridge {
  federation: Federation;
  system: ZhejiangLegacySystem;
  rp: RelyingParty;
  /** The bridge's base URL, `${issuer}/zj`. */
  zj: string;
  /** Runs a browser through a legacy login up to the (unserved) callback; returns that URL. */
  legacyLogin(browser: Browser, servicecode: string, params?: Record<string, string>, username?: string): Promise<URL>;
  simpleauth(params: Record<string, string>, init?: { method?: 'GET' | 'POST'; body?: string; contentType?: string }): Promise<SimpleauthAnswer>;
  /** A (servicecode, time, sign) is accepted once: each call here signs a second not used before. */
  signedBy(servicecode: string, password: string, offsetMs?: number): { servicecode: string; time: string; sign: string; datatype: string };
  asNingbo(offsetMs?: number): { servicecode: string; time: string; sign: string; datatype: string };
  assertNoPersonalData(text: string): void;
}

/** Starts the federation and the documented legacy system before the calling describe's tests, stops them after. */
export function useZhejiangBridge(): ZhejiangBridge {
  const bridge = {} as ZhejiangBridge;
  before(async () => {
    bridge.system = await startZhejiangLegacySystem(jiaxingFund.serviceCode, jiaxingFund.servicePassword);
    bridge.federation = await startFederation({
      clients: [portal],
      overrides: {
        keys: { subjectSecret },
        ttl: { legacyTicket: 2 },
        legacySystems: [
          { province: 'zhejiang', city: '330400', name: '嘉兴公积金', callbackUrl: bridge.system.callbackUrl, scopes: ['profile', 'phone', 'id_number'], ...jiaxingFund },
          hangzhouQueue,
        ],
      },
    });
    bridge.zj = `${bridge.federation.issuer}/zj`;
    bridge.system.usePlatform(bridge.zj);
    // A system registered at run time, as the admin CLI does.
    await bridge.federation.broker.legacy.registry.register(ningboTax);
    bridge.rp = await relyingParty(bridge.federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => {
    await bridge.federation?.stop();
    await bridge.system?.stop();
  });

  bridge.legacyLogin = async (browser, servicecode, params = {}, username = 'zhangsan') => {
    const stopAt = (url: URL) => url.href.startsWith(unserved);
    const entry = `${bridge.zj}/sso/usp.do?${new URLSearchParams({ action: 'ssoLogin', servicecode, ...params })}`;
    let page = await browser.follow(entry, { stopAt });
    if (page.status === 200 && /name="password"/.test(page.body)) {
      page = await browser.submitForm(page.body, page.url, { username, password: 'tongban-demo' }, { stopAt });
    }
    page = await acceptConsent(browser, page, stopAt);
    assert.ok(page.location?.startsWith(unserved), `legacy login did not reach the callback: ${page.status} ${page.url}`);
    return new URL(page.location!);
  };

  bridge.simpleauth = async (params, init = {}) => {
    const url = `${bridge.zj}/sso/servlet/simpleauth?${new URLSearchParams(params)}`;
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined ? { body: init.body, headers: { 'content-type': init.contentType ?? 'application/x-www-form-urlencoded' } } : {}),
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Record<string, string> };
  };

  const usedTimes = new Set<string>();
  bridge.signedBy = (servicecode, password, offsetMs = 0) => {
    let back = 0;
    let time = beijingTime(offsetMs);
    while (usedTimes.has(`${servicecode} ${time}`)) time = beijingTime(offsetMs - ++back * 1000);
    usedTimes.add(`${servicecode} ${time}`);
    // The second before is spent too: the 6002 test re-times a good sign one second back (a sign
    // over other parameters), which must never be a time handed out here, whatever ran before it.
    usedTimes.add(`${servicecode} ${beijingTime(offsetMs - (back + 1) * 1000)}`);
    return { servicecode, time, sign: md5(servicecode + password + time), datatype: 'json' };
  };
  bridge.asNingbo = (offsetMs = 0) => bridge.signedBy(ningboTax.serviceCode, ningboTax.servicePassword, offsetMs);

  bridge.assertNoPersonalData = (text) => {
    const national = bridge.federation.simulator.claimsOf('zhangsan');
    for (const value of [national.name, national.cert_no, national.phone_number, national.cert_key]) {
      assert.ok(!text.includes(String(value)), 'personal data in an error answer');
    }
  };

  return bridge;
}
