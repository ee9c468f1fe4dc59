/**
 * The legacy bridges on several broker nodes sharing Redis: a login may come back to another
 * node, and a ticket presented to several nodes at once is honoured exactly once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ConfiguredLegacySystem } from '../../config/defaults.ts';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { Browser } from '../support/browser.ts';
import { startFederation, type Federation } from '../support/federation.ts';
import { checkProcessLogs, collectReceivedSecrets, configuredSecrets, describeCheck, linesAsOutput } from '../support/process-logs.ts';
import { freshZhejiangTimes } from '../support/nodes.ts';

const unserved = 'http://127.0.0.1:9';
const jiaxingFund: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330400',
  serviceCode: 'jx-gjj',
  name: '嘉兴公积金',
  callbackUrl: `${unserved}/jx-gjj/callback`,
  servicePassword: 'jx-gjj-service-password-2027',
  scopes: ['profile'],
};
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('legacy bridge on several nodes (Redis)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let second: Broker;
  let nodes: string[];
  // Both nodes run in this process and share one memory logger: its lines get the check of the process nodes.
  let received: ReturnType<typeof collectReceivedSecrets> | undefined;

  before(async () => {
    received = collectReceivedSecrets();
    federation = await startFederation({ clients: [], store: 'redis://127.0.0.1:6379', overrides: { legacySystems: [jiaxingFund] } });
    const config = federation.broker.config;
    second = await createBroker({ ...config, listen: { host: config.listen.host, port: 0 } }, { store: federation.store, logger: federation.logger });
    nodes = [federation.issuer, await second.start()];
  });
  after(async () => {
    received?.close();
    await second?.stop();
    await federation?.stop();
    if (!federation) return;
    const secrets = [...configuredSecrets({ legacySystems: [jiaxingFund] }), ...(received?.secrets ?? [])];
    process.stdout.write(`      ${describeCheck(checkProcessLogs([linesAsOutput('two in-process nodes', federation.logger.lines)], secrets))}\n`);
  });

  // Each call signed afresh: a reused (time, sign) would be refused as 6007 before the ticket is looked at.
  const signedTime = freshZhejiangTimes();
  function validation(node: string, ticket: string) {
    const time = signedTime();
    const params = new URLSearchParams({
      method: 'ticketValidation', servicecode: jiaxingFund.serviceCode, time, sign: md5(jiaxingFund.serviceCode + jiaxingFund.servicePassword + time), st: ticket, datatype: 'json',
    });
    return fetch(`${node}/zj/sso/servlet/simpleauth?${params}`).then(async (r) => (await r.json()) as Record<string, string>);
  }

  it('a login that returns to another node; one ticket raced on both nodes is honoured once', async () => {
    const browser = new Browser();
    let returnUrl: URL | undefined;
    const stopAt = (url: URL) => {
      if (url.pathname === '/legacy/return') returnUrl = url;
      return url.pathname === '/legacy/return';
    };
    let page = await browser.follow(`${nodes[0]}/zj/sso/usp.do?action=ssoLogin&servicecode=jx-gjj`, { stopAt });
    page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
    assert.ok(returnUrl);
    // Cookies ignore ports: the second node gets the same browser cookies and only shares the store.
    const onSecond = new URL(returnUrl.pathname + returnUrl.search, nodes[1]);
    page = await browser.get(onSecond);
    assert.equal(page.status, 302, page.body.slice(0, 200));
    const ticket = new URL(page.location!).searchParams.get('ticket')!;

    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => validation(nodes[i % 2]!, ticket)));
    const results = answers.map((a) => a.result).sort();
    assert.deepEqual(results, ['0', '6004', '6004', '6004', '6004', '6004', '6004', '6004']);
    const won = answers.find((a) => a.result === '0')!;
    assert.equal(won.username, federation.simulator.claimsOf('zhangsan').name);
  });
});
