/**
 * Prometheus metrics after real logins: the series operators rely on are there, on the metrics
 * listener only (never the public port), and nothing personal or secret is in a label.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { createMetrics, labelValue, meterNational } from '../../broker/platform/metrics/index.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, brokerClient, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { hangzhouPortal, withSessions } from '../support/clients.ts';

const portal: ConfiguredClient = hangzhouPortal({ ...withSessions, scope: 'openid profile phone id_number' });
/** Suzhou's back-channel logout receiver: answers 200 to every logout token. */
let receiver: Server;
let receiverUrl: string;

const suzhou = (): ConfiguredClient => ({
  client_id: 'suzhou-portal',
  client_secret: 'suzhou-portal-secret',
  client_name: '苏州市民中心',
  city: '320500',
  redirect_uris: ['http://127.0.0.1:9/suzhou/callback'],
  scope: 'openid profile',
  first_party: true,
  backchannel_logout_uri: receiverUrl,
});

/** The value of one series, `name{labels}`, in a scrape (labels in the order prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics (prom-client, own listener)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;
  let suzhouRp: RelyingParty;
  let scrape: string;
  let signedIn: { browser: Browser; idToken: string };
  const issued: string[] = [];

  before(async () => {
    receiver = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel`;
    federation = await startFederation({ clients: [portal, suzhou()] });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    const suzhouClient = suzhou();
    suzhouRp = await relyingParty(federation.issuer, { clientId: suzhouClient.client_id, clientSecret: suzhouClient.client_secret!, redirectUri: suzhouClient.redirect_uris[0]! });
    // Two logins in Hangzhou, one in Suzhou by SSO, one refused at the national platform.
    const browser = new Browser();
    const first = await login(browser, rp, 'zhangsan', { scope: 'openid profile phone id_number' });
    issued.push(first.tokens.access_token, first.tokens.id_token!, first.tokens.refresh_token!);
    assert.equal((await oidc.tokenIntrospection(rp.config, first.tokens.access_token)).active, true);
    const sso = await login(browser, suzhouRp, undefined);
    issued.push(sso.tokens.access_token, sso.tokens.id_token!);
    signedIn = { browser, idToken: first.tokens.id_token! };
    const second = await login(new Browser(), rp, 'lisi');
    issued.push(second.tokens.access_token, second.tokens.id_token!);
    await federation.simulator.misbehave('wrong-nonce');
    const refusedBrowser = new Browser();
    const refused = await browse(refusedBrowser, rp, await authorizationRequest(rp), 'wangwu');
    assert.ok(refused.status >= 400);
    const back = /href="([^"]+)"/.exec(refused.body.slice(refused.body.indexOf('<main>')))?.[1];
    await refusedBrowser.follow(back!.replaceAll('&amp;', '&'), { stopAt: (url) => url.href.startsWith(rp.redirectUri) });
    await federation.simulator.behave();
    const url = federation.broker.metricsUrl();
    assert.ok(url, 'the metrics listener is started with the broker');
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    scrape = await response.text();
  });
  after(async () => {
    await federation?.stop();
    receiver?.close();
  });

  it('counts logins by province, city and outcome, with their latency', () => {
    assert.equal(sample(scrape, 'tongban_logins_total{province="330000",city="330100",outcome="success"}'), 2);
    assert.equal(sample(scrape, 'tongban_logins_total{province="320000",city="320500",outcome="success"}'), 1);
    assert.equal(sample(scrape, 'tongban_logins_total{province="330000",city="330100",outcome="access_denied"}'), 1);
    assert.ok((sample(scrape, 'tongban_login_duration_seconds_count{province="330000",outcome="success"}') ?? 0) >= 2);
  });

  it('counts national-platform calls by endpoint and error, tokens by kind, introspections', () => {
    assert.ok((sample(scrape, 'tongban_national_calls_total{endpoint="token",outcome="ok"}') ?? 0) >= 2);
    assert.equal(sample(scrape, 'tongban_national_calls_total{endpoint="token",outcome="upstream_token_invalid"}'), 1);
    assert.ok((sample(scrape, 'tongban_national_call_duration_seconds_count{endpoint="token"}') ?? 0) >= 3);
    for (const kind of ['access_token', 'authorization_code', 'refresh_token', 'grant']) {
      assert.ok((sample(scrape, `tongban_tokens_issued_total{kind="${kind}"}`) ?? 0) >= 1, kind);
    }
    assert.equal(sample(scrape, 'tongban_introspections_total{active="true"}'), 1);
  });

  it('times store operations and exposes the process defaults and the logout queue', () => {
    assert.ok((sample(scrape, 'tongban_store_operation_duration_seconds_count{method="get"}') ?? 0) > 0);
    assert.match(scrape, /^tongban_process_cpu_seconds_total /m);
    assert.match(scrape, /^tongban_nodejs_eventloop_lag_seconds /m);
    assert.match(scrape, /^# TYPE tongban_backchannel_logout_queue_depth gauge$/m);
  });

  it('counts rate-limit refusals by limit through metrics.rateLimited', async () => {
    federation.broker.metrics.rateLimited('token_per_client');
    const text = await (await fetch(federation.broker.metricsUrl()!)).text();
    assert.equal(sample(text, 'tongban_rate_limited_total{limit="token_per_client"}'), 1);
  });

  it('carries no personal data and no secret', () => {
    for (const user of ['zhangsan', 'lisi', 'wangwu']) {
      const national = federation.simulator.claimsOf(user);
      for (const value of [national.name, national.cert_no, national.phone_number, federation.simulator.subjectOf(user), user]) {
        if (value) assert.ok(!scrape.includes(String(value)), `${user}: a personal value in /metrics`);
      }
    }
    for (const value of [...issued, portal.client_secret!, suzhou().client_secret!, brokerClient.clientSecret]) {
      assert.ok(!scrape.includes(value), 'a token or secret in /metrics');
    }
  });

  it('is served on its own listener only: not on the public port, nothing but the path', async () => {
    const publicAnswer = await fetch(`${federation.issuer}/metrics`);
    assert.ok(!(await publicAnswer.text()).includes('tongban_logins_total'));
    const metricsUrl = new URL(federation.broker.metricsUrl()!);
    assert.notEqual(metricsUrl.port, new URL(federation.issuer).port);
    assert.equal((await fetch(new URL('/other', metricsUrl))).status, 404);
  });

  it('keeps one registry per broker and bounds label values to codes', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.rateLimited('x');
    assert.equal(sample((await b.scrape()).body, 'tongban_rate_limited_total{limit="x"}'), undefined);
    assert.equal(labelValue('张三'), 'unknown');
    assert.equal(labelValue('a"b'), 'unknown');
    a.login({ city: '11010519491231002X', outcome: 'success' });
    assert.doesNotMatch((await a.scrape()).body, /11010519491231002X/);
  });

  it('counts back-channel logout deliveries by destination province after a single logout', async () => {
    const { browser, idToken } = signedIn;
    const end = oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: portal.post_logout_redirect_uris![0]! });
    const atPortal = (url: URL) => url.origin === 'http://127.0.0.1:9';
    let page = await browser.follow(end, { stopAt: atPortal });
    for (let step = 0; step < 4 && !page.location && page.status === 200 && /<form/i.test(page.body); step += 1) {
      page = await browser.submitForm(page.body, page.url, { logout: 'yes' }, { stopAt: atPortal });
    }
    assert.ok(page.location?.startsWith('http://127.0.0.1:9/logged-out'), `logout reached the portal: ${page.status} ${page.url}`);
    const deadline = Date.now() + 5000;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await fetch(federation.broker.metricsUrl()!)).text();
      if (sample(text, 'tongban_backchannel_logout_delivered_total{province="320000"}') === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(sample(text, 'tongban_backchannel_logout_delivered_total{province="320000"}'), 1, 'delivered to Suzhou (Jiangsu)');
    assert.equal(sample(text, 'tongban_backchannel_logout_queue_depth{province="320000"}') ?? 0, 0);
  });

  it('reads the back-channel logout queue at each scrape: depth and oldest age by province; counts outcomes', async () => {
    const metrics = createMetrics();
    let reads = 0;
    metrics.watchLogoutQueue(async () => {
      reads += 1;
      return { 330000: { waiting: 3, oldestSeconds: 42 }, 320000: { waiting: 1, oldestSeconds: 5 } };
    });
    metrics.logoutDelivered('330000');
    metrics.logoutGivenUp('320000');
    metrics.logoutGivenUp(undefined);
    const text = (await metrics.scrape()).body;
    assert.equal(reads, 1, 'one store read serves both gauges');
    assert.equal(sample(text, 'tongban_backchannel_logout_queue_depth{province="330000"}'), 3);
    assert.equal(sample(text, 'tongban_backchannel_logout_oldest_age_seconds{province="330000"}'), 42);
    assert.equal(sample(text, 'tongban_backchannel_logout_queue_depth{province="320000"}'), 1);
    assert.equal(sample(text, 'tongban_backchannel_logout_delivered_total{province="330000"}'), 1);
    assert.equal(sample(text, 'tongban_backchannel_logout_given_up_total{province="320000"}'), 1);
    assert.equal(sample(text, 'tongban_backchannel_logout_given_up_total{province="unknown"}'), 1);
  });

  it('counts legacy ticket validations and store failures', async () => {
    const metrics = createMetrics();
    metrics.legacyValidation('zhejiang', 'ticketValidation', 'ok');
    metrics.legacyValidation('zhejiang', undefined, 'bad_signature');
    metrics.storeOperation('get', 0.002, true);
    const text = (await metrics.scrape()).body;
    assert.equal(sample(text, 'tongban_legacy_ticket_validations_total{province="zhejiang",method="ticketValidation",result="ok"}'), 1);
    assert.equal(sample(text, 'tongban_legacy_ticket_validations_total{province="zhejiang",method="unknown",result="bad_signature"}'), 1);
    assert.equal(sample(text, 'tongban_store_errors_total{method="get"}'), 1);
  });

  it('documents every tongban_ metric it exposes in docs/operators.md (the process defaults as one row), the alert rules only over real ones', async () => {
    const text = (await createMetrics().scrape()).body;
    const exposed = [...text.matchAll(/^# TYPE (tongban_\w+) /gm)].map((m) => m[1]!).filter((name) => !/^tongban_(process|nodejs)_/.test(name));
    assert.ok(exposed.length >= 14, exposed.join(', '));
    const docs = readFileSync(new URL('../../docs/operators.md', import.meta.url), 'utf8');
    for (const name of exposed) assert.ok(docs.includes(`| \`${name}\` |`), `${name} has no row in docs/operators.md`);
    assert.ok(docs.includes('`tongban_process_*`, `tongban_nodejs_*`'));
    const rules = docs.slice(docs.indexOf('### Alert rules'));
    const used = [...rules.matchAll(/\b(tongban_\w+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));
    assert.ok(used.length >= 2);
    for (const name of used) assert.ok(exposed.includes(name), `alert rule over unknown metric ${name}`);
  });

  it('counts failed national calls by the error code and passes the error on', async () => {
    const metrics = createMetrics();
    const failing = meterNational({
      async finish() { throw Object.assign(new Error('x'), { code: 'upstream_timeout' }); },
      async start() { return 'ok'; },
    }, metrics, { finish: 'token', start: 'authorization' });
    assert.equal(await failing.start(), 'ok');
    await assert.rejects(failing.finish(), /x/);
    const text = (await metrics.scrape()).body;
    assert.equal(sample(text, 'tongban_national_calls_total{endpoint="token",outcome="upstream_timeout"}'), 1);
    assert.equal(sample(text, 'tongban_national_calls_total{endpoint="authorization",outcome="ok"}'), 1);
  });
});
