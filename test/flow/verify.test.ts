/**
 * The verifier module (`tongban/verify`) against an issuer of the test's own: a small HTTP server
 * publishing discovery and a JWKS whose keys the test rotates, and tokens signed with jose.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import Koa from 'koa';
// Through the package's own export map, as a service would import it.
import { createVerifier, requireToken, TokenError, TokenErrorCode, type RefusalLogger, type Verifier } from 'tongban/verify';

interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: 'ES256' | 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** An issuer publishing `keys`; counts JWKS fetches. */
class TestIssuer {
  keys: SigningKey[] = [];
  jwksFetches = 0;
  metadataIssuer: string | undefined;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: this.metadataIssuer ?? this.url, jwks_uri: `${this.url}/jwks` }));
      } else if (req.url === '/jwks') {
        this.jwksFetches += 1;
        res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  }
}

const audience = 'https://gjj.shanghai.example.gov.cn/api';
const now = () => Math.floor(Date.now() / 1000);

describe('tongban/verify', () => {
  const issuer = new TestIssuer();
  let es256: SigningKey;
  let rs256: SigningKey;

  function accessToken(key: SigningKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
    const iat = now();
    return new SignJWT({ iss: issuer.url, sub: 'pairwise-sub', aud: audience, iat, exp: iat + 300, jti: `j${Math.random()}`, client_id: 'hangzhou-portal', scope: 'gjj:read', acr: 'urn:tongban:loa:3', ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
      .sign(key.privateKey);
  }

  const verifierFor = (options: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier =>
    createVerifier({ issuer: issuer.url, audience, jwksCooldownSeconds: 0, ...options });

  async function refusedWith(promise: Promise<unknown>, code: TokenErrorCode): Promise<void> {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof TokenError, `expected a TokenError, got ${String(error)}`);
      assert.equal(error.code, code, error.message);
      return true;
    });
  }

  before(async () => {
    await issuer.start();
    es256 = await signingKey('es-1', 'ES256');
    rs256 = await signingKey('rs-1', 'RS256');
    issuer.keys = [es256, rs256];
  });
  after(() => issuer.stop());

  it('accepts a valid access token signed with ES256 or RS256', async () => {
    const verifier = verifierFor();
    for (const key of [es256, rs256]) {
      const { claims, header, scopes } = await verifier.verifyAccessToken(await accessToken(key, { scope: 'gjj:read gjj:loan' }));
      assert.equal(claims.sub, 'pairwise-sub');
      assert.equal(claims.client_id, 'hangzhou-portal');
      assert.equal(header.alg, key.alg);
      assert.deepEqual([...scopes], ['gjj:read', 'gjj:loan']);
    }
  });

  it('refuses the wrong audience and the wrong issuer', async () => {
    const verifier = verifierFor();
    await refusedWith(verifier.verifyAccessToken(await accessToken(es256, { aud: 'https://other.example.gov.cn/api' })), TokenErrorCode.audience);
    await refusedWith(verifier.verifyAccessToken(await accessToken(es256, { iss: 'https://evil.example' })), TokenErrorCode.issuer);
  });

  it('refuses an expired token, and allows the configured clock skew', async () => {
    const verifier = verifierFor({ clockToleranceSeconds: 5 });
    await refusedWith(verifier.verifyAccessToken(await accessToken(es256, { iat: now() - 400, exp: now() - 60 })), TokenErrorCode.expired);
    assert.ok(await verifier.verifyAccessToken(await accessToken(es256, { iat: now() - 300, exp: now() - 2 })));
  });

  it('refuses a token not valid yet (nbf or iat in the future)', async () => {
    const verifier = verifierFor();
    await refusedWith(verifier.verifyAccessToken(await accessToken(es256, { nbf: now() + 60 })), TokenErrorCode.notYetValid);
    await refusedWith(verifier.verifyAccessToken(await accessToken(es256, { iat: now() + 60, exp: now() + 360 })), TokenErrorCode.notYetValid);
  });

  it('refuses a token signed with a key the issuer does not publish', async () => {
    const stranger = await signingKey('es-unknown', 'ES256');
    await refusedWith(verifierFor().verifyAccessToken(await accessToken(stranger)), TokenErrorCode.keyUnknown);
    // The same kid as a published key, another key: the signature fails.
    const impostor = { ...stranger, kid: es256.kid };
    await refusedWith(verifierFor().verifyAccessToken(await accessToken(impostor)), TokenErrorCode.signatureInvalid);
  });

  it('refuses alg none', async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: issuer.url, sub: 's', aud: audience, iat: now(), exp: now() + 300, jti: 'x', client_id: 'c' })}.`;
    await refusedWith(verifierFor().verifyAccessToken(unsigned), TokenErrorCode.algorithmNotAllowed);
  });

  it('refuses HS256 signed with the issuer\'s public key as the secret (algorithm confusion)', async () => {
    const iat = now();
    const claims = { iss: issuer.url, sub: 's', aud: audience, iat, exp: iat + 300, jti: 'x', client_id: 'c' };
    for (const secret of [await exportSPKI(rs256.publicKey), JSON.stringify(rs256.jwk)]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rs256.kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(secret));
      await refusedWith(verifierFor().verifyAccessToken(forged), TokenErrorCode.algorithmNotAllowed);
    }
    assert.throws(() => createVerifier({ issuer: issuer.url, audience, algorithms: ['HS256' as 'ES256'] }), TypeError);
    assert.throws(() => createVerifier({ issuer: issuer.url, audience, algorithms: ['none' as 'ES256'] }), TypeError);
  });

  it('tells access tokens and ID tokens apart by typ', async () => {
    const verifier = verifierFor();
    const iat = now();
    const idToken = await new SignJWT({ iss: issuer.url, sub: 's', aud: audience, iat, exp: iat + 300, nonce: 'n-1' })
      .setProtectedHeader({ alg: 'ES256', kid: es256.kid }).sign(es256.privateKey);
    await refusedWith(verifier.verifyAccessToken(idToken), TokenErrorCode.type);
    await refusedWith(verifier.verifyIdToken(await accessToken(es256)), TokenErrorCode.type);
    const { claims } = await verifier.verifyIdToken(idToken, { nonce: 'n-1' });
    assert.equal(claims.nonce, 'n-1');
    await refusedWith(verifier.verifyIdToken(idToken, { nonce: 'other' }), TokenErrorCode.claimInvalid);
    const logoutToken = await new SignJWT({ iss: issuer.url, sub: 's', aud: audience, iat, exp: iat + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: es256.kid, typ: 'logout+jwt' }).sign(es256.privateKey);
    await refusedWith(verifier.verifyIdToken(logoutToken), TokenErrorCode.type);
  });

  it('refuses a token missing a required claim', async () => {
    await refusedWith(verifierFor().verifyAccessToken(await accessToken(es256, { client_id: undefined })), TokenErrorCode.claimMissing);
    await refusedWith(verifierFor().verifyAccessToken(await accessToken(es256, { jti: undefined })), TokenErrorCode.claimMissing);
    await refusedWith(verifierFor({ requiredClaims: ['auth_time'] }).verifyAccessToken(await accessToken(es256)), TokenErrorCode.claimMissing);
  });

  it('refuses malformed and tampered tokens', async () => {
    await refusedWith(verifierFor().verifyAccessToken('not-a-token'), TokenErrorCode.malformed);
    await refusedWith(verifierFor().verifyAccessToken(''), TokenErrorCode.malformed);
    const [header, , signature] = (await accessToken(es256)).split('.');
    const payload = Buffer.from(JSON.stringify({ iss: issuer.url, sub: 'someone-else', aud: audience, iat: now(), exp: now() + 300, jti: 'x', client_id: 'c' })).toString('base64url');
    await refusedWith(verifierFor().verifyAccessToken(`${header}.${payload}.${signature}`), TokenErrorCode.signatureInvalid);
  });

  it('picks up a rotated signing key (new kid) with one refetch, and keeps its cache otherwise', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 0 });
    await verifier.verifyAccessToken(await accessToken(es256));
    const fetches = issuer.jwksFetches;
    await verifier.verifyAccessToken(await accessToken(rs256));
    assert.equal(issuer.jwksFetches, fetches, 'known keys come from the cache');
    const next = await signingKey('es-2', 'ES256');
    issuer.keys = [next, es256, rs256];
    const { claims } = await verifier.verifyAccessToken(await accessToken(next));
    assert.equal(claims.sub, 'pairwise-sub');
    assert.equal(issuer.jwksFetches, fetches + 1, 'exactly one refetch for the new kid');
    // Within the cooldown an unknown kid is not fetched again (a flood of forged kids costs nothing).
    const slow = verifierFor({ jwksCooldownSeconds: 30 });
    await slow.verifyAccessToken(await accessToken(es256));
    const before = issuer.jwksFetches;
    await refusedWith(slow.verifyAccessToken(await accessToken(await signingKey('es-forged', 'ES256'))), TokenErrorCode.keyUnknown);
    assert.equal(issuer.jwksFetches, before);
    issuer.keys = [es256, rs256];
  });

  it('answers ERR_JWKS_UNAVAILABLE (503) when the issuer cannot be reached or is not who it says', async () => {
    const unreachable = createVerifier({ issuer: 'http://127.0.0.1:9', audience, timeoutMs: 1000 });
    await assert.rejects(unreachable.verifyAccessToken(await accessToken(es256)), (error: TokenError) => error.code === TokenErrorCode.keysUnavailable && error.status === 503);
    issuer.metadataIssuer = 'https://someone-else.example';
    await refusedWith(verifierFor().verifyAccessToken(await accessToken(es256)), TokenErrorCode.keysUnavailable);
    issuer.metadataIssuer = undefined;
  });

  describe('requireToken (koa)', () => {
    let server: Server;
    let base: string;
    const lines: Array<{ event: string; fields: Record<string, unknown> }> = [];
    const logger: RefusalLogger = { info: (event, fields) => lines.push({ event, fields }) };

    before(async () => {
      const app = new Koa();
      app.use(requireToken({ verifier: verifierFor(), scope: 'gjj:read', logger }));
      app.use((ctx) => {
        ctx.body = { sub: (ctx.state.token as { claims: { sub: string } }).claims.sub };
      });
      server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));

    const call = (authorization?: string) => fetch(`${base}/api/housing-fund/330106198504121356`, { headers: authorization ? { authorization } : {} });

    it('lets a valid token through and hands its claims on', async () => {
      const response = await call(`Bearer ${await accessToken(es256)}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { sub: 'pairwise-sub' });
    });

    it('answers 401 with a bare challenge when no token is sent (RFC 6750 §3.1)', async () => {
      const response = await call();
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="tongban"');
      assert.equal(((await response.json()) as { code: string }).code, TokenErrorCode.missing);
    });

    it('answers 401 invalid_token for a bad token, with the code in the body', async () => {
      for (const [authorization, code] of [
        [`Bearer ${await accessToken(es256, { aud: 'https://other.example' })}`, TokenErrorCode.audience],
        [`Bearer ${await accessToken(es256, { exp: now() - 100, iat: now() - 400 })}`, TokenErrorCode.expired],
        ['Basic dXNlcjpwYXNz', TokenErrorCode.malformed],
      ] as const) {
        const response = await call(authorization);
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate')!, /^Bearer realm="tongban", error="invalid_token", error_description="[^"]+"$/);
        const body = await response.json() as { error: string; code: string };
        assert.equal(body.error, 'invalid_token');
        assert.equal(body.code, code);
      }
    });

    it('answers 403 insufficient_scope naming the scope needed', async () => {
      const response = await call(`Bearer ${await accessToken(es256, { scope: 'gjj:loan' })}`);
      assert.equal(response.status, 403);
      assert.match(response.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="gjj:read"/);
    });

    it('logs each refusal with its code and no token, subject or path', () => {
      const refusals = lines.filter((line) => line.event === 'token_refused');
      assert.ok(refusals.length >= 5);
      assert.ok(refusals.some((line) => line.fields.code === TokenErrorCode.expired));
      assert.ok(refusals.some((line) => line.fields.code === TokenErrorCode.insufficientScope && line.fields.client_id === 'hangzhou-portal'));
      const text = JSON.stringify(lines);
      for (const secret of ['pairwise-sub', '330106198504121356', 'eyJ']) assert.ok(!text.includes(secret), `a log line carries ${secret}`);
    });
  });
});
