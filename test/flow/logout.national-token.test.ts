/**
 * Validation of the national platform's back-channel logout tokens, without a federation: keys,
 * claims, typ, times and replay, each refusal with a stable reason.
 */
import assert from 'node:assert/strict';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createNationalLogoutTokenVerifier, LogoutTokenRejected } from '../../broker/logout/national-token.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import { backchannelEvent } from './logout/support.ts';

describe('single logout (end to end)', function () {
  describe('national logout token validation', () => {
    const issuer = 'https://national.example.gov.cn';
    const audience = 'tongban-broker';
    let key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
    let verify: ReturnType<typeof createNationalLogoutTokenVerifier>;

    before(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      key = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
      verify = createNationalLogoutTokenVerifier({ issuer, clientId: audience, store: createMemoryStore(), timeoutMs: 1000, keys: createLocalJWKSet({ keys: [jwk] }) });
    });

    const token = (claims: Record<string, unknown>, header: Record<string, unknown> = {}, times: { iat?: number; exp?: number } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ events: { [backchannelEvent]: {} }, sid: 's1', jti: `j-${Math.random()}`, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt', ...header })
        .setIssuer(String(claims.iss ?? issuer)).setAudience(String(claims.aud ?? audience)).setSubject('national-sub')
        .setIssuedAt(times.iat ?? now).setExpirationTime(times.exp ?? now + 120);
      return jwt.sign(key);
    };
    const rejectedFor = async (reason: string | RegExp, jwt: Promise<string> | string) => {
      await assert.rejects(verify(await jwt), (error: unknown) => {
        assert.ok(error instanceof LogoutTokenRejected, String(error));
        if (typeof reason === 'string') assert.equal(error.reason, reason);
        else assert.match(error.reason, reason);
        return true;
      });
    };

    it('accepts a well-formed token once', async () => {
      const jwt = await token({});
      assert.deepEqual(await verify(jwt), { sub: 'national-sub', sid: 's1' });
      await rejectedFor('replayed', jwt);
    });

    it('refuses every malformed or misdirected token with a stable reason', async () => {
      const now = Math.floor(Date.now() / 1000);
      await rejectedFor('nonce', token({ nonce: 'n' }));
      await rejectedFor('events', token({ events: { 'http://schemas.openid.net/event/other': {} } }));
      await rejectedFor('events', token({ events: { [backchannelEvent]: 'yes' } }));
      await rejectedFor('claim_aud', token({ aud: 'someone-else' }));
      await rejectedFor('claim_iss', token({ iss: 'https://impostor.example' }));
      await rejectedFor('typ', token({}, { typ: 'JWT' }));
      await rejectedFor('expired', token({}, {}, { iat: now - 300, exp: now - 100 }));
      await rejectedFor('claim_iat', token({}, {}, { iat: now + 600, exp: now + 700 }));
      await rejectedFor('expired', token({}, {}, { iat: now - 3600, exp: now + 60 }));
      await rejectedFor('claim_jti', token({ jti: undefined }));
      await rejectedFor('sid', token({ sid: 42 }));
      const noSubject = new SignJWT({ events: { [backchannelEvent]: {} }, jti: 'x' }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt' })
        .setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('2m').sign(key);
      await rejectedFor('no_sub_or_sid', noSubject);
      await rejectedFor('missing', '');
    });
  });
});
