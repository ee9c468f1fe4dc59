/**
 * Token exchange (RFC 8693) across provinces, end to end: a Zhejiang service holding a person's
 * token exchanges it for a token to a Shanghai service, which checks it with `tongban/verify` (or
 * by introspection) and sees who acts for the person. Every refusal the issue lists is exercised.
 */
import assert from 'node:assert/strict';
import { decodeJwt, SignJWT, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import type { ConfiguredResourceServer } from '../../broker/resources/index.ts';
import { createVerifier } from 'tongban/verify';
import { Browser } from '../support/browser.ts';
import { browse, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const zjFund = 'https://gjj.hangzhou.example.gov.cn/api';
const zjSocial = 'https://sb.hangzhou.example.gov.cn/api';
const shFund = 'https://gjj.shanghai.example.gov.cn/api';
const shSocial = 'https://sb.shanghai.example.gov.cn/api';
const jsFund = 'https://gjj.suzhou.example.gov.cn/api';
const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';

const secretOf = (clientId: string) => `${clientId}-secret-0123456789abcdefghij`;
const services = {
  zjFund: { id: 'hangzhou-gjj-api', secret: secretOf('hangzhou-gjj-api') },
  zjSocial: { id: 'hangzhou-sb-api', secret: secretOf('hangzhou-sb-api') },
  shFund: { id: 'shanghai-gjj-api', secret: secretOf('shanghai-gjj-api') },
  shSocial: { id: 'shanghai-sb-api', secret: secretOf('shanghai-sb-api') },
  jsFund: { id: 'suzhou-gjj-api', secret: secretOf('suzhou-gjj-api') },
};

const portal = (clientId: string, city: string, path: string): ConfiguredClient => ({
  client_id: clientId,
  client_secret: secretOf(clientId),
  city,
  redirect_uris: [`http://127.0.0.1:9/${path}/callback`],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
  first_party: true,
});
const hangzhouPortal = portal('hangzhou-portal', '330100', 'hangzhou');
const shanghaiPortal = portal('shanghai-portal', '310000', 'shanghai');

const resources: ConfiguredResourceServer[] = [
  {
    identifier: zjFund, city: '330100', name: '杭州公积金', clients: ['hangzhou-portal', 'jiaxing-app'], scopes: ['gjj:read', 'gjj:loan'],
    serviceClientId: services.zjFund.id, serviceClientSecret: services.zjFund.secret, routes: [{ target: shFund, scopes: ['gjj:read'] }],
  },
  {
    identifier: zjSocial, city: '330100', name: '杭州社保', clients: ['hangzhou-portal', 'jiaxing-app'], scopes: ['sb:read'], accessTokenFormat: 'opaque',
    serviceClientId: services.zjSocial.id, serviceClientSecret: services.zjSocial.secret, routes: [{ target: shSocial, scopes: ['sb:read'] }],
  },
  {
    identifier: shFund, city: '310000', name: '上海公积金', scopes: ['gjj:read', 'gjj:loan', 'gjj:withdraw'],
    serviceClientId: services.shFund.id, serviceClientSecret: services.shFund.secret, routes: [{ target: jsFund, scopes: ['gjj:read'] }],
  },
  {
    identifier: shSocial, city: '310000', name: '上海社保', scopes: ['sb:read'], accessTokenFormat: 'opaque',
    serviceClientId: services.shSocial.id, serviceClientSecret: services.shSocial.secret,
  },
  { identifier: jsFund, city: '320500', name: '苏州公积金', scopes: ['gjj:read'], serviceClientId: services.jsFund.id, serviceClientSecret: services.jsFund.secret },
];

type Json = Record<string, unknown>;

async function post(issuer: string, path: string, auth: { id: string; secret: string }, body: Record<string, string | string[]>): Promise<{ status: number; body: Json }> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
  const response = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { status: response.status, body: await response.json() as Json };
}

/** Signs in asking for several resources (RFC 8707 repeats `resource`); returns the token response. */
async function loginFor(browser: Browser, rp: RelyingParty, username: string | undefined, scope: string, indicators: readonly string[]) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = new URLSearchParams({ redirect_uri: rp.redirectUri, scope, state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' });
  for (const resource of indicators) params.append('resource', resource);
  const page = await browse(browser, rp, { url: oidc.buildAuthorizationUrl(rp.config, params), state, nonce, codeVerifier }, username);
  assert.ok(page.location?.startsWith(rp.redirectUri), `login did not reach the app: ${page.status} ${page.body.slice(0, 200)}`);
  return oidc.authorizationCodeGrant(rp.config, new URL(page.location!), { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
}

describe('token exchange across provinces (RFC 8693)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let hangzhou: RelyingParty;
  const browser = new Browser();
  /** zhangsan's tokens, issued to the Hangzhou portal for the Zhejiang services. */
  let fundToken: string;
  let socialToken: string;
  let userinfoToken: string;

  const exchange = (service: { id: string; secret: string }, params: Record<string, string | string[]>) =>
    post(federation.issuer, '/token', service, { grant_type: exchangeGrant, subject_token_type: accessTokenType, ...params });
  const refusedWith = async (answer: Promise<{ status: number; body: Json }>, error: string) => {
    const { status, body } = await answer;
    assert.equal(body.error, error, JSON.stringify(body));
    assert.ok(status === 400 || status === 401, `status ${status}`);
    assert.equal(body.access_token, undefined);
  };

  before(async () => {
    federation = await startFederation({ clients: [hangzhouPortal, shanghaiPortal], overrides: { resources } });
    hangzhou = await relyingParty(federation.issuer, { clientId: hangzhouPortal.client_id, clientSecret: hangzhouPortal.client_secret!, redirectUri: hangzhouPortal.redirect_uris[0]! });
    const tokens = await loginFor(browser, hangzhou, 'zhangsan', 'openid profile gjj:read gjj:loan sb:read', [zjFund, zjSocial]);
    userinfoToken = tokens.access_token;
    const fund = await oidc.refreshTokenGrant(hangzhou.config, tokens.refresh_token!, { resource: zjFund });
    fundToken = fund.access_token;
    socialToken = (await oidc.refreshTokenGrant(hangzhou.config, fund.refresh_token!, { resource: zjSocial })).access_token;
  });
  after(async () => federation?.stop());

  it('exchanges a Zhejiang portal\'s token for a Shanghai service\'s token, which sees act and its own province\'s sub', async () => {
    const { status, body } = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.issued_token_type, accessTokenType);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'gjj:read', 'the subject token\'s scopes ∩ the route\'s');

    // The Shanghai service checks it with tongban/verify: issuer URL and its own identifier only.
    const verifier = createVerifier({ issuer: federation.issuer, audience: shFund, requiredClaims: ['act', 'acr'] });
    const { claims, header } = await verifier.verifyAccessToken(String(body.access_token));
    assert.equal(header.typ, 'at+jwt');
    assert.deepEqual(claims.act, { sub: services.zjFund.id });
    assert.equal(claims.client_id, services.zjFund.id);
    assert.equal(claims.scope, 'gjj:read');
    const subject = decodeJwt(fundToken);
    assert.equal(claims.acr, subject.acr, 'the level is copied');
    assert.equal(claims.auth_time, subject.auth_time);
    assert.ok(claims.exp <= subject.exp!, 'never outlives the subject token');
    assert.notEqual(claims.sub, subject.sub);

    // No cross-province linkage (issue 12 item 12): the Zhejiang service can read this token, so its sub is
    // neither the one Shanghai's own portals know the person by nor Zhejiang's, but stable for the pair.
    const shanghai = await relyingParty(federation.issuer, { clientId: shanghaiPortal.client_id, clientSecret: shanghaiPortal.client_secret!, redirectUri: shanghaiPortal.redirect_uris[0]! });
    const { tokens } = await login(browser, shanghai, undefined, { scope: 'openid' });
    assert.notEqual(claims.sub, tokens.claims()!.sub, 'never the Shanghai portals\' sub');
    const again = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund });
    assert.equal(decodeJwt(String(again.body.access_token)).sub, claims.sub, 'stable for the person');

    const entry = (await federation.broker.resources.audit.recent(20)).find((e) => e.event === 'token.exchanged');
    assert.ok(entry);
    assert.equal(entry.actor, services.zjFund.id);
    assert.equal(entry.fields.resource, shFund);
    assert.equal(entry.fields.subject_client_id, 'hangzhou-portal');
    const line = federation.logger.lines.find((l) => l.event === 'token_exchanged');
    assert.ok(line && line.resource === shFund && line.client_id === services.zjFund.id);
    assert.ok(!JSON.stringify(entry).includes(String(claims.sub)) && !JSON.stringify(line).includes(String(claims.sub)), 'no subject in the audit trail or the log');
  });

  it('exchanges an opaque token for an opaque one, which the Shanghai service introspects with its own credentials', async () => {
    const { status, body } = await exchange(services.zjSocial, { subject_token: socialToken, audience: shSocial });
    assert.equal(status, 200, JSON.stringify(body));
    const introspection = await post(federation.issuer, '/token/introspection', services.shSocial, { token: String(body.access_token) });
    assert.equal(introspection.body.active, true);
    assert.equal(introspection.body.aud, shSocial);
    assert.deepEqual(introspection.body.act, { sub: services.zjSocial.id });
    assert.equal(introspection.body.client_id, services.zjSocial.id);
    assert.equal(introspection.body.scope, 'sb:read');
    assert.equal(introspection.body.acr, 'urn:tongban:loa:3');
    const viaJwt = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund });
    assert.equal(introspection.body.sub, decodeJwt(String(viaJwt.body.access_token)).sub, 'the same Shanghai sub, whatever the format');
    // The Zhejiang service that asked may not read the token it passed on.
    assert.equal((await post(federation.issuer, '/token/introspection', services.zjFund, { token: String(body.access_token) })).body.active, false);
  });

  it('never lets a client read another province\'s sub of the person: JWT, own introspection, exchanged tokens (12.12)', async () => {
    const shanghai = await relyingParty(federation.issuer, { clientId: shanghaiPortal.client_id, clientSecret: shanghaiPortal.client_secret!, redirectUri: shanghaiPortal.redirect_uris[0]! });
    const shanghaiSub = (await login(browser, shanghai, undefined, { scope: 'openid' })).tokens.claims()!.sub;
    const zhejiangSub = String(decodeJwt(fundToken).sub);
    const seen: string[] = [];
    // 1, 2: the JWT and the opaque token the Zhejiang services get from exchanges to Shanghai.
    const jwt = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund });
    seen.push(String(decodeJwt(String(jwt.body.access_token)).sub));
    const opaque = await exchange(services.zjSocial, { subject_token: socialToken, audience: shSocial });
    // 3: the Zhejiang service introspecting the opaque token it holds sees its own province's sub only.
    const own = await post(federation.issuer, '/token/introspection', services.zjSocial, { token: String(opaque.body.access_token) });
    assert.equal(own.body.active, true, JSON.stringify(own.body));
    assert.equal(own.body.sub, zhejiangSub, 'its own province\'s sub');
    assert.equal(own.body.aud, shSocial);
    seen.push(String(own.body.sub));
    // 4: the Shanghai service introspecting: the pair's sub, the same as in the JWT.
    const bySh = await post(federation.issuer, '/token/introspection', services.shSocial, { token: String(opaque.body.access_token) });
    assert.equal(bySh.body.sub, seen[0], 'the Shanghai service knows the person by one sub, whatever the format');
    seen.push(String(bySh.body.sub));
    // 5: exchanged on to Jiangsu by the Shanghai service.
    const onward = await exchange(services.shFund, { subject_token: String(jwt.body.access_token), resource: jsFund });
    seen.push(String(decodeJwt(String(onward.body.access_token)).sub));
    for (const sub of seen) assert.notEqual(sub, shanghaiSub, 'a client of Zhejiang or Jiangsu never reads the Shanghai sub');
    assert.notEqual(seen[3], zhejiangSub);
    assert.notEqual(seen[3], seen[0], 'Jiangsu has its own');
  });

  it('keeps the earlier actor nested when an exchanged token is exchanged again', async () => {
    const first = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund });
    const second = await exchange(services.shFund, { subject_token: String(first.body.access_token), resource: jsFund });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const claims = decodeJwt(String(second.body.access_token));
    assert.deepEqual(claims.act, { sub: services.shFund.id, act: { sub: services.zjFund.id } });
    assert.equal(claims.aud, jsFund);
    assert.notEqual(claims.sub, decodeJwt(String(first.body.access_token)).sub, 'Jiangsu has its own sub');
    const entry = (await federation.broker.resources.audit.recent(5)).find((e) => e.event === 'token.exchanged' && e.fields.resource === jsFund);
    assert.equal(entry?.fields.origin_client_id, 'hangzhou-portal');
    assert.equal(entry?.fields.depth, 2);
  });

  it('refuses a route that is not configured, an unknown target, and zero or two targets (invalid_target)', async () => {
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shSocial }), 'invalid_target');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: 'https://nowhere.example.gov.cn/api' }), 'invalid_target');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken }), 'invalid_target');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: [shFund, jsFund] }), 'invalid_target');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, audience: jsFund }), 'invalid_target');
    // A route out of the Shanghai service does not let the Zhejiang one call Jiangsu.
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: jsFund }), 'invalid_target');
    assert.ok(federation.logger.lines.some((l) => l.event === 'token_exchange_refused' && l.reason === 'no_route' && l.code === 'invalid_target'));
  });

  it('refuses wider scopes than the subject token and the route allow (invalid_scope)', async () => {
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, scope: 'gjj:read gjj:loan' }), 'invalid_scope');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, scope: 'gjj:withdraw' }), 'invalid_scope');
    const narrow = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund, scope: 'gjj:read' });
    assert.equal(narrow.body.scope, 'gjj:read');
  });

  it('never raises the assurance level (invalid_grant for a higher acr_values)', async () => {
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, acr_values: 'urn:tongban:loa:4' }), 'invalid_grant');
    const lower = await exchange(services.zjFund, { subject_token: fundToken, resource: shFund, acr_values: 'urn:tongban:loa:2' });
    assert.equal(lower.status, 200);
    assert.equal(decodeJwt(String(lower.body.access_token)).acr, 'urn:tongban:loa:3', 'copied, not lowered to what was asked');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, acr_values: 'urn:other:gold' }), 'invalid_request');
  });

  it('refuses subject tokens that are not valid for the caller (invalid_grant)', async () => {
    await refusedWith(exchange(services.zjFund, { subject_token: 'not-a-token', resource: shFund }), 'invalid_grant');
    // A token for another service, and the portal's userinfo token.
    await refusedWith(exchange(services.zjFund, { subject_token: socialToken, resource: shFund }), 'invalid_grant');
    await refusedWith(exchange(services.zjFund, { subject_token: userinfoToken, resource: shFund }), 'invalid_grant');
    // A look-alike signed with a key the broker does not hold.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...decodeJwt(fundToken) }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'forged' }).sign(privateKey);
    await refusedWith(exchange(services.zjFund, { subject_token: forged, resource: shFund }), 'invalid_grant');
  });

  it('refuses malformed requests (invalid_request) and apps that are not services', async () => {
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 'invalid_request');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, actor_token: fundToken, actor_token_type: accessTokenType }), 'invalid_request');
    await refusedWith(exchange(services.zjFund, { subject_token: fundToken, resource: shFund, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'invalid_request');
    await refusedWith(exchange(services.zjFund, { resource: shFund }), 'invalid_request');
    const portalAsks = await exchange({ id: hangzhouPortal.client_id, secret: hangzhouPortal.client_secret! }, { subject_token: fundToken, resource: shFund });
    // A portal is not registered for the grant type: oidc-provider answers invalid_request before the exchange runs.
    assert.equal(portalAsks.body.error, 'invalid_request', JSON.stringify(portalAsks.body));
    assert.equal(portalAsks.body.access_token, undefined);
    await refusedWith(exchange({ id: services.zjFund.id, secret: 'wrong-secret-0123456789abcdefghijklmn' }, { subject_token: fundToken, resource: shFund }), 'invalid_client');
  });

  it('refuses the tokens of a revoked grant, and what was exchanged from them stops at once', async () => {
    const other = new Browser();
    const tokens = await loginFor(other, hangzhou, 'lisi', 'openid gjj:read sb:read', [zjFund, zjSocial]);
    const fund = await oidc.refreshTokenGrant(hangzhou.config, tokens.refresh_token!, { resource: zjFund });
    const social = await oidc.refreshTokenGrant(hangzhou.config, fund.refresh_token!, { resource: zjSocial });
    const passedOn = await exchange(services.zjSocial, { subject_token: social.access_token, resource: shSocial });
    assert.equal(passedOn.status, 200);
    assert.equal((await post(federation.issuer, '/token/introspection', services.shSocial, { token: String(passedOn.body.access_token) })).body.active, true);

    await oidc.tokenRevocation(hangzhou.config, social.refresh_token!);
    await refusedWith(exchange(services.zjFund, { subject_token: fund.access_token, resource: shFund }), 'invalid_grant');
    assert.equal((await post(federation.issuer, '/token/introspection', services.shSocial, { token: String(passedOn.body.access_token) })).body.active, false);
  });

  it('refuses the tokens of a suspended app, and what was exchanged from them stops at once', async () => {
    // An app of 嘉兴 registered at run time in the member-city registry, then suspended by an operator.
    const operator = { kind: 'cli', user: 'test-operator' } as const;
    const redirectUri = 'http://127.0.0.1:9/jiaxing/callback';
    const registered = await federation.broker.registry.registerApp(operator, {
      client_id: 'jiaxing-app', city: '330400', name: '嘉兴市民卡', redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile', first_party: true,
    });
    const rp = await relyingParty(federation.issuer, { clientId: 'jiaxing-app', clientSecret: registered.client_secret!, redirectUri });
    const tokens = await loginFor(browser, rp, undefined, 'openid gjj:read sb:read', [zjFund, zjSocial]);
    const fund = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: zjFund });
    const social = await oidc.refreshTokenGrant(rp.config, fund.refresh_token!, { resource: zjSocial });
    const passedOn = await exchange(services.zjSocial, { subject_token: social.access_token, resource: shSocial });
    assert.equal(passedOn.status, 200);

    await federation.broker.registry.suspendApp(operator, 'jiaxing-app');
    await refusedWith(exchange(services.zjFund, { subject_token: fund.access_token, resource: shFund }), 'invalid_grant');
    assert.equal((await post(federation.issuer, '/token/introspection', services.zjSocial, { token: social.access_token })).body.active, false);
    assert.equal((await post(federation.issuer, '/token/introspection', services.shSocial, { token: String(passedOn.body.access_token) })).body.active, false);
    assert.ok(federation.logger.lines.some((l) => l.event === 'token_exchange_refused' && l.reason === 'subject_client_inactive'));
  });

  it('keeps personal data and tokens out of the logs', () => {
    const national = federation.simulator.claimsOf('zhangsan');
    const text = JSON.stringify(federation.logger.lines);
    for (const secret of [national.name, national.cert_no, national.phone_number, fundToken, socialToken]) assert.ok(!text.includes(String(secret)));
  });
});
