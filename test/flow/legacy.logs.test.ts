/**
 * The legacy endpoints' query strings never reach a log (issue 12, item 7): a captured `time` +
 * `sign` (or a ticket, token or return address) must not be readable from the logs. Drives the
 * legacy APIs and login entries over HTTP, GET and POST, good and bad, and reads every captured line.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredLegacySystem } from '../../config/defaults.ts';
import { Browser } from '../support/browser.ts';
import { startFederation, type Federation } from '../support/federation.ts';

const unserved = 'http://127.0.0.1:9';
const ningboTax: ConfiguredLegacySystem = {
  province: 'zhejiang', city: '330200', serviceCode: 'nb-tax-logs', name: '宁波税务（日志测试）',
  callbackUrl: `${unserved}/nb/callback`, servicePassword: 'nb-tax-logs-service-password', scopes: [],
};
const suzhouFund: ConfiguredLegacySystem = {
  province: 'jiangsu', city: '320500', serviceCode: 'sz-gjj-logs', name: '苏州公积金（日志测试）',
  callbackUrl: `${unserved}/sz/callback`, servicePassword: 'sz-gjj-logs-app-secret-2027', scopes: [],
};
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const beijingTime = (offsetMs: number) => new Date(Date.now() + offsetMs + 8 * 3600 * 1000).toISOString().slice(0, 19).replace(/\D/g, '');
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('legacy endpoints: no query string in the logs', function () {
  this.timeout(30_000);
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ clients: [], overrides: { legacySystems: [ningboTax, suzhouFund] } });
  });
  after(async () => federation?.stop());

  it('11 calls (signed, replayed, wrongly signed, login entries with return addresses) leave no parameter value in any line', async () => {
    const zj = `${federation.issuer}/zj`;
    const js = `${federation.issuer}/js`;
    const sent: string[] = [];
    const remember = (params: Record<string, string>) => {
      for (const [name, value] of Object.entries(params)) if (['time', 'sign', 'st', 'token', 'timestamp', 'app_sign', 'ticket', 'goto', 'return_url'].includes(name)) sent.push(value);
      return new URLSearchParams(params).toString();
    };
    const time = beijingTime(-1000);
    const zjSigned = { method: 'ticketValidation', servicecode: ningboTax.serviceCode, time, sign: md5(ningboTax.serviceCode + ningboTax.servicePassword + time), st: 'Stolen0Ticket0Value0001', datatype: 'json' };
    const timestamp = String(Date.now() - 1000);
    const jsSigned = { app_id: suzhouFund.serviceCode, timestamp, app_sign: md5(suzhouFund.serviceCode + suzhouFund.servicePassword + timestamp), ticket: 'Stolen0Ticket0Value0002' };
    const wrongTime = beijingTime(-2000);

    const results: string[] = [];
    const json = async (response: Response) => {
      const body = await response.json() as { result?: string; code?: string };
      results.push(body.result ?? body.code ?? '?');
    };
    await json(await fetch(`${zj}/sso/servlet/simpleauth?${remember(zjSigned)}`));
    await json(await fetch(`${zj}/sso/servlet/simpleauth?${remember({ ...zjSigned, st: 'Stolen0Ticket0Value0003' })}`));
    await json(await fetch(`${zj}/sso/servlet/simpleauth`, { method: 'POST', headers: form, body: remember({ ...zjSigned, method: 'getUserInfo', st: '', token: 'Stolen0Token00Value0004' }) }));
    await json(await fetch(`${zj}/sso/servlet/simpleauth?${remember({ ...zjSigned, time: wrongTime, sign: md5(`wrong${wrongTime}`) })}`));
    await json(await fetch(`${js}/auth/ticketValidate.do?${remember(jsSigned)}`));
    await json(await fetch(`${js}/auth/ticketValidate.do`, { method: 'POST', headers: form, body: remember({ ...jsSigned, ticket: 'Stolen0Ticket0Value0005' }) }));
    await json(await fetch(`${js}/auth/ticketValidate.do?${remember({ ...jsSigned, app_sign: md5('wrong') })}`));
    assert.deepEqual(results, ['6004', '6007', '6007', '6002', '1004', '1007', '1002']);

    const browser = new Browser();
    const entries = [
      `${zj}/sso/usp.do?${remember({ action: 'ssoLogin', servicecode: ningboTax.serviceCode, goto: 'https://gjj.example/secret-return-1?x=1' })}`,
      `${zj}/sso/usp.do?${remember({ action: 'ssoLogin', servicecode: ningboTax.serviceCode, goto: 'https://a.example/secret-return-2', redirectUrl: 'https://b.example/secret-return-3' })}`,
      `${js}/auth/login.do?${remember({ app_id: suzhouFund.serviceCode, return_url: 'https://sz.example/secret-return-4' })}`,
      `${js}/auth/login.do?${remember({ app_id: 'no-such-app', return_url: 'https://sz.example/secret-return-5' })}`,
    ];
    for (const entry of entries) await browser.get(entry);

    const lines = federation.logger.lines;
    assert.ok(lines.some((line) => line.event === 'legacy_call' && line.result === '6007'), 'the replay itself is logged, as a code');
    assert.ok(lines.some((line) => line.event === 'legacy_login_started'), 'the login entries are logged');
    const text = JSON.stringify(lines);
    for (const value of sent.filter((v) => v.length >= 8)) assert.ok(!text.includes(value), `a log line carries a legacy parameter value: ${value}`);
    for (const marker of ['sign=', 'st=', 'token=', 'ticket=', 'goto=', 'return_url=', 'simpleauth?', 'usp.do?', 'ticketValidate.do?', 'login.do?']) {
      assert.ok(!text.includes(marker), `a log line carries a legacy query string (${marker})`);
    }
  });
});
