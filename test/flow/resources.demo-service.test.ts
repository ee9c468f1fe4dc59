/**
 * The demo 公积金 service called from the demo portal: a person signs in, presses the button, and
 * the service answers for them with a token for that API alone; bad calls get RFC 6750 answers.
 */
import assert from 'node:assert/strict';
import { createDemoPortal, type DemoPortal } from '../../scripts/dev/demo-portal/index.ts';
import { createDemoService, demoHousingFundResource, type DemoService } from '../../scripts/dev/demo-service/index.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { Browser } from '../support/browser.ts';
import { freePort, startFederation, type Federation } from '../support/federation.ts';

describe('demo 公积金 service called from the demo portal', function () {
  this.timeout(30_000);
  let federation: Federation;
  let service: DemoService;
  let portal: DemoPortal;
  let portalUrl: string;
  let serviceUrl: string;
  const serviceLog = createMemoryLogger('info');

  before(async () => {
    const [portalPort, servicePort] = [await freePort(), await freePort()];
    portalUrl = `http://127.0.0.1:${portalPort}`;
    serviceUrl = `http://127.0.0.1:${servicePort}`;
    const identifier = `${serviceUrl}/api`;
    federation = await startFederation({
      clients: [{
        client_id: 'demo-portal', client_secret: 'demo-portal-secret', client_name: '杭州市民中心（演示）', city: '330100',
        redirect_uris: [`${portalUrl}/callback`], post_logout_redirect_uris: [`${portalUrl}/`], grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid profile', first_party: true,
      }],
      overrides: { resources: [demoHousingFundResource(identifier, ['demo-portal'])] },
    });
    service = createDemoService({ brokerIssuer: federation.issuer, identifier, port: servicePort, logger: serviceLog });
    await service.start();
    portal = createDemoPortal({
      brokerIssuer: federation.issuer, clientId: 'demo-portal', clientSecret: 'demo-portal-secret', baseUrl: portalUrl, port: portalPort,
      title: '杭州市民中心（演示）', scope: 'openid profile', cookieName: 'resources_demo_sid',
      services: [{ label: '查询上海公积金', resource: identifier, scope: 'gjj:read', url: `${serviceUrl}/api/housing-fund/account` }],
    });
    await portal.start();
  });
  after(async () => {
    await portal?.stop();
    await service?.stop();
    await federation?.stop();
  });

  it('the person signs in at the portal, presses the button, and the service answers for them', async () => {
    const browser = new Browser();
    const loginPage = await browser.follow(`${portalUrl}/login`);
    const home = await browser.submitForm(loginPage.body, loginPage.url, { username: 'zhangsan', password: demoPassword });
    assert.equal(home.url, `${portalUrl}/`, home.body.slice(0, 300));
    assert.match(home.body, /id="service-0"/);
    const answered = await browser.follow(`${portalUrl}/service/0`);
    const answer = /<pre id="service-answer">([^<]*)<\/pre>/.exec(answered.body)?.[1];
    assert.ok(answer, answered.body.slice(0, 500));
    assert.match(answered.body, /HTTP 200/);
    const body = JSON.parse(answer.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as Record<string, unknown>;
    assert.equal(body.city, '310000');
    assert.equal(body.requested_by, 'demo-portal');
    assert.equal(body.assurance, 'urn:tongban:loa:3');
    assert.equal(typeof body.balance_cny, 'number');
    const national = federation.simulator.claimsOf('zhangsan');
    assert.ok(!answer.includes(String(national.cert_no)) && !answer.includes(String(national.name)), 'the service knows the person by pairwise sub only');
  });

  it('the service refuses calls without a valid token, with RFC 6750 answers and a log line', async () => {
    const bare = await fetch(`${serviceUrl}/api/housing-fund/account`);
    assert.equal(bare.status, 401);
    assert.equal(bare.headers.get('www-authenticate'), 'Bearer realm="tongban"');
    const forged = await fetch(`${serviceUrl}/api/housing-fund/account`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.e30.' } });
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate')!, /error="invalid_token"/);
    assert.equal(((await forged.json()) as { code: string }).code, 'ERR_TOKEN_ALG_NOT_ALLOWED');
    assert.ok(serviceLog.lines.some((line) => line.event === 'token_refused' && line.code === 'ERR_TOKEN_ALG_NOT_ALLOWED' && line.route === '/api/housing-fund/account'));
  });
});
