/**
 * Resource servers end to end: RFC 8707 resource indicators, RFC 9068 JWT access tokens checked by
 * a service written with jose alone, opaque tokens introspected (RFC 7662, and as a signed JWT per
 * RFC 9701) by a service with nothing but its own credentials.
 */
import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { ConfiguredClient } from '../../config/defaults.ts';
import type { ConfiguredResourceServer } from '../../broker/resources/index.ts';
import { demoPassword } from '../../scripts/dev/simulator/index.ts';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';
import { hangzhouPortal } from '../support/clients.ts';

const hangzhouFund = 'https://gjj.hangzhou.example.gov.cn/api';
const shanghaiFund = 'https://gjj.shanghai.example.gov.cn/api';

const portal: ConfiguredClient = hangzhouPortal({ grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile' });
const otherApp: ConfiguredClient = {
  client_id: 'suzhou-app',
  client_secret: 'suzhou-app-secret',
  city: '320500',
  redirect_uris: ['http://127.0.0.1:9/suzhou/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
  first_party: true,
};
const consentingApp: ConfiguredClient = {
  client_id: 'ningbo-app',
  client_secret: 'ningbo-app-secret',
  client_name: '宁波公积金提取',
  city: '330200',
  redirect_uris: ['http://127.0.0.1:9/ningbo/callback'],
  scope: 'openid profile',
};
const resources: ConfiguredResourceServer[] = [
  {
    identifier: hangzhouFund,
    city: '330100',
    name: '杭州住房公积金查询',
    clients: ['hangzhou-portal'],
    scopes: ['gjj:read', 'gjj:loan'],
    accessTokenFormat: 'jwt',
    serviceClientId: 'hangzhou-gjj-api',
    serviceClientSecret: 'hangzhou-gjj-api-secret-0123456789abcdef',
  },
  {
    identifier: shanghaiFund,
    city: '310000',
    name: '上海住房公积金查询',
    clients: ['hangzhou-portal', 'ningbo-app'],
    scopes: ['gjj:read'],
    accessTokenFormat: 'opaque',
    accessTokenTtl: 120,
    serviceClientId: 'shanghai-gjj-api',
    serviceClientSecret: 'shanghai-gjj-api-secret-0123456789abcdef',
  },
];

/** Signs in through the browser asking for several resources at once (RFC 8707 allows repeating `resource`). */
async function loginFor(browser: Browser, rp: RelyingParty, username: string | undefined, scope: string, resourceIndicators: readonly string[]) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = new URLSearchParams({
    redirect_uri: rp.redirectUri, scope, state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
  });
  for (const resource of resourceIndicators) params.append('resource', resource);
  const attempt = { url: oidc.buildAuthorizationUrl(rp.config, params), state, nonce, codeVerifier };
  const page = await browse(browser, rp, attempt, username);
  assert.ok(page.location?.startsWith(rp.redirectUri), `login did not reach the app: ${page.status} ${page.body.slice(0, 200)}`);
  return oidc.authorizationCodeGrant(rp.config, new URL(page.location!), { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
}

/** A resource server's own client, as any OAuth library would hold it. */
async function serviceClient(issuer: string, clientId: string, secret: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, {}, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

describe('resource servers (RFC 8707, RFC 9068, RFC 7662 / 9701)', function () {
  this.timeout(30_000);
  let federation: Federation;
  let rp: RelyingParty;
  let other: RelyingParty;
  let refreshToken: string;
  let idTokenSub: string;
  const browser = new Browser();

  before(async () => {
    federation = await startFederation({ clients: [portal, otherApp, consentingApp], overrides: { resources } });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    other = await relyingParty(federation.issuer, { clientId: otherApp.client_id, clientSecret: otherApp.client_secret!, redirectUri: otherApp.redirect_uris[0]! });
    const tokens = await loginFor(browser, rp, 'zhangsan', 'openid profile gjj:read gjj:loan', [hangzhouFund, shanghaiFund]);
    refreshToken = tokens.refresh_token!;
    idTokenSub = tokens.claims()!.sub;
    // Without `resource` the portal keeps its userinfo token.
    assert.equal((await oidc.fetchUserInfo(rp.config, tokens.access_token, idTokenSub)).sub, idTokenSub);
  });
  after(async () => federation?.stop());

  async function resourceToken(resource: string, scope?: string): Promise<oidc.TokenEndpointResponse> {
    const response = await oidc.refreshTokenGrant(rp.config, refreshToken, { resource, ...(scope ? { scope } : {}) });
    refreshToken = response.refresh_token ?? refreshToken;
    return response;
  }

  it('publishes token exchange and signed introspection in discovery', () => {
    const metadata = rp.config.serverMetadata();
    assert.ok(metadata.grant_types_supported?.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
    assert.ok((metadata.introspection_signing_alg_values_supported as string[] | undefined)?.includes('ES256'));
  });

  it('a service written with jose alone validates a JWT access token (RFC 9068)', async () => {
    const { access_token: accessToken, expires_in: expiresIn } = await resourceToken(hangzhouFund);
    // Nothing from tongban below: the issuer's JWKS, the expected audience, the at+jwt type.
    const jwks = createRemoteJWKSet(new URL('/jwks', federation.issuer));
    const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
      issuer: federation.issuer,
      audience: hangzhouFund,
      typ: 'at+jwt',
      algorithms: ['ES256', 'RS256'],
      requiredClaims: ['sub', 'client_id', 'scope', 'jti', 'iat', 'exp', 'acr', 'auth_time'],
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.client_id, portal.client_id);
    assert.equal(payload.scope, 'gjj:read gjj:loan');
    assert.equal(payload.acr, 'urn:tongban:loa:3');
    assert.equal(payload.sub, idTokenSub, 'a Zhejiang resource sees the Zhejiang pairwise subject');
    assert.equal(payload.exp! - payload.iat!, 300, 'short-lived: the resource default of 300 s');
    assert.equal(expiresIn, 300);
    for (const claim of ['name', 'idnum', 'phone_number', 'cert_no']) assert.ok(!(claim in payload), `no ${claim} in an access token`);
  });

  it('narrows scopes to what the resource accepts and was granted', async () => {
    const { access_token: accessToken, scope } = await resourceToken(hangzhouFund, 'gjj:read');
    assert.equal(decodeJwt(accessToken).scope, 'gjj:read');
    assert.equal(scope, 'gjj:read');
  });

  it('another service validates by introspection with only its own credentials, as JSON and as a signed JWT', async () => {
    const { access_token: accessToken } = await resourceToken(shanghaiFund);
    assert.throws(() => decodeJwt(accessToken), 'an opaque token');
    const service = await serviceClient(federation.issuer, 'shanghai-gjj-api', 'shanghai-gjj-api-secret-0123456789abcdef');
    const answer = await oidc.tokenIntrospection(service, accessToken);
    assert.equal(answer.active, true);
    assert.equal(answer.aud, shanghaiFund);
    assert.equal(answer.client_id, portal.client_id);
    assert.equal(answer.scope, 'gjj:read');
    assert.equal(answer.acr, 'urn:tongban:loa:3');
    assert.equal(typeof answer.auth_time, 'number');
    assert.equal(answer.exp! - answer.iat!, 120);
    assert.equal(answer.token_type, 'Bearer');
    assert.ok(typeof answer.sub === 'string' && answer.sub !== idTokenSub, 'a Shanghai resource sees the Shanghai pairwise subject, not the Zhejiang one');

    // RFC 9701: the same answer signed by the broker, checked with jose alone.
    const response = await fetch(`${federation.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('shanghai-gjj-api:shanghai-gjj-api-secret-0123456789abcdef').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/token-introspection+jwt',
      },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/token-introspection\+jwt/);
    const { payload, protectedHeader } = await jwtVerify(await response.text(), createRemoteJWKSet(new URL('/jwks', federation.issuer)), {
      issuer: federation.issuer,
      audience: 'shanghai-gjj-api',
      typ: 'token-introspection+jwt',
    });
    assert.equal(protectedHeader.alg, 'ES256');
    const signed = payload.token_introspection as Record<string, unknown>;
    assert.equal(signed.active, true);
    assert.equal(signed.sub, answer.sub);
    assert.equal(signed.aud, shanghaiFund);
  });

  it('an app introspecting its own token for another province\'s service sees its own sub, never that province\'s (issue 12.12)', async () => {
    const { access_token: accessToken } = await resourceToken(shanghaiFund);
    const own = await oidc.tokenIntrospection(rp.config, accessToken);
    assert.equal(own.active, true);
    assert.equal(own.aud, shanghaiFund);
    assert.equal(own.sub, idTokenSub, 'the portal\'s own (Zhejiang) sub');
    const service = await serviceClient(federation.issuer, 'shanghai-gjj-api', 'shanghai-gjj-api-secret-0123456789abcdef');
    const bySh = await oidc.tokenIntrospection(service, accessToken);
    assert.notEqual(bySh.sub, own.sub, 'the service knows the person by another sub');
  });

  it('answers active:false to an app or a service the token is not for', async () => {
    const { access_token: accessToken } = await resourceToken(shanghaiFund);
    assert.equal((await oidc.tokenIntrospection(other.config, accessToken)).active, false, 'another app');
    const wrongService = await serviceClient(federation.issuer, 'hangzhou-gjj-api', 'hangzhou-gjj-api-secret-0123456789abcdef');
    assert.equal((await oidc.tokenIntrospection(wrongService, accessToken)).active, false, 'another service');
    const wrongSecret = await serviceClient(federation.issuer, 'shanghai-gjj-api', 'not-the-secret-0123456789abcdef-xxxxxx');
    await assert.rejects(oidc.tokenIntrospection(wrongSecret, accessToken), (error: { status?: number; cause?: Array<{ parameters?: { error?: string } }> }) =>
      error.status === 401 && error.cause?.[0]?.parameters?.error === 'invalid_client');
    assert.ok(federation.logger.lines.some((line) => line.event === 'introspection_refused' && line.reason === 'not_audience'));
  });

  it('refuses an unknown resource and an app the resource does not list with invalid_target', async () => {
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshToken, { resource: 'https://unknown.example.gov.cn/api' }),
      (error: { error?: string }) => error.error === 'invalid_target');
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshToken, { resource: 'not a uri' }),
      (error: { error?: string }) => error.error === 'invalid_target');
    // Refused before rotation: the refresh token still works.
    assert.equal(decodeJwt((await resourceToken(hangzhouFund)).access_token).aud, hangzhouFund);
    // suzhou-app is not listed by the Shanghai resource: refused at the authorization endpoint, back at the app.
    const attempt = await authorizationRequest(other, { scope: 'openid gjj:read', resource: shanghaiFund });
    const page = await browse(new Browser(), other, attempt, 'zhangsan');
    const back = new URL(page.location!);
    assert.equal(back.searchParams.get('error'), 'invalid_target');
    assert.equal(back.searchParams.get('state'), attempt.state);
    const refused = federation.logger.lines.filter((line) => line.event === 'resource_refused');
    assert.ok(refused.some((line) => line.reason === 'unknown_resource'));
    assert.ok(refused.some((line) => line.reason === 'client_not_allowed' && line.client_id === 'suzhou-app'));
  });

  it('shows the person which service an app that needs consent would call, and grants it on consent', async () => {
    const app = await relyingParty(federation.issuer, { clientId: consentingApp.client_id, clientSecret: consentingApp.client_secret!, redirectUri: consentingApp.redirect_uris[0]! });
    const consentBrowser = new Browser();
    const stopAt = (url: URL) => url.href.startsWith(app.redirectUri);
    const attempt = await authorizationRequest(app, { scope: 'openid gjj:read', resource: shanghaiFund });
    let page = await consentBrowser.follow(attempt.url, { stopAt });
    page = await consentBrowser.submitForm(page.body, page.url, { username: 'wangwu', password: demoPassword }, { stopAt });
    assert.match(page.body, /授权确认/);
    assert.ok(page.body.includes(`代您访问 ${shanghaiFund}（gjj:read）`), page.body);
    page = await consentBrowser.submitForm(page.body, page.url, { decision: 'allow' }, { stopAt });
    const tokens = await oidc.authorizationCodeGrant(app.config, new URL(page.location!), { pkceCodeVerifier: attempt.codeVerifier, expectedState: attempt.state, expectedNonce: attempt.nonce }, { resource: shanghaiFund });
    const service = await serviceClient(federation.issuer, 'shanghai-gjj-api', 'shanghai-gjj-api-secret-0123456789abcdef');
    const answer = await oidc.tokenIntrospection(service, tokens.access_token);
    assert.equal(answer.active, true);
    assert.equal(answer.scope, 'gjj:read');
    assert.equal(answer.acr, 'urn:tongban:loa:2', 'wangwu reaches level 2');
  });

  it('registers and removes a resource at run time; a removed resource is refused at once', async () => {
    const identifier = 'https://shebao.hangzhou.example.gov.cn/api';
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshToken, { resource: identifier }), (error: { error?: string }) => error.error === 'invalid_target');
    const { record, created, serviceClientSecret } = await federation.broker.resources.register(
      { identifier, city: '330100', clients: ['hangzhou-portal'], scopes: ['sb:read'] }, { actor: 'test-operator' });
    assert.equal(created, true);
    assert.equal(record.serviceClientId, 'rs-shebao.hangzhou.example.gov.cn-api');
    assert.ok(serviceClientSecret && serviceClientSecret.length >= 32, 'a generated secret, shown once');
    // The same browser signs in again (single sign-on), now asking for the new resource.
    const { tokens } = await login(browser, rp, undefined, { scope: 'openid sb:read', resource: identifier });
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: identifier });
    assert.equal(decodeJwt(refreshed.access_token).aud, identifier);
    assert.equal(decodeJwt(refreshed.access_token).scope, 'sb:read');
    // A service's own client can never take an app's client id.
    await assert.rejects(federation.broker.resources.register({ identifier: 'https://x.example.gov.cn/api', city: '330100', scopes: ['x:read'], serviceClientId: 'hangzhou-portal' }, { actor: 'test-operator' }),
      (error: { code?: string }) => error.code === 'resource_conflict');
    await federation.broker.resources.remove(identifier, { actor: 'test-operator' });
    assert.equal(await federation.broker.resources.get(identifier), undefined);
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!, { resource: identifier }), (error: { error?: string }) => error.error === 'invalid_target');
    // The refusal came before the refresh token was rotated: it still works.
    assert.ok((await oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!)).access_token);
    const events = (await federation.broker.resources.audit.recent(10)).map((entry) => `${entry.event} ${entry.actor}`);
    assert.ok(events.includes('resource.registered test-operator'));
    assert.ok(events.includes('resource.removed test-operator'));
    assert.ok(events.includes('resource.registered config'), 'configured resources are registered at start');
  });

  it('revoking the grant makes its opaque tokens fail introspection at once', async () => {
    const { tokens } = await login(new Browser(), rp, 'lisi', { scope: 'openid gjj:read', resource: shanghaiFund });
    const { access_token: accessToken } = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!, { resource: shanghaiFund });
    const service = await serviceClient(federation.issuer, 'shanghai-gjj-api', 'shanghai-gjj-api-secret-0123456789abcdef');
    assert.equal((await oidc.tokenIntrospection(service, accessToken)).active, true);
    await oidc.tokenRevocation(rp.config, tokens.refresh_token!);
    assert.equal((await oidc.tokenIntrospection(service, accessToken)).active, false);
  });

  it('keeps personal data out of the logs', () => {
    const national = federation.simulator.claimsOf('zhangsan');
    const text = JSON.stringify(federation.logger.lines);
    for (const secret of [national.name, national.cert_no, national.phone_number]) assert.ok(!text.includes(String(secret)));
  });
});
