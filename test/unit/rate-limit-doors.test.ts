/**
 * Which door counts against which limit (issue 12, item 1): the path table of the rate-limit
 * middleware, so a door dropped from it (or a limit moved to another door) fails here. The limits'
 * counting itself is proved per backend in test/contract/rate-limit.test.ts and across two nodes in
 * test/flow/rate-limits.test.ts.
 */
import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { brokerPathTable, rateLimitMiddleware, type LimitName, type RateLimiters } from '../../broker/platform/rate-limit/index.ts';

interface Call { readonly kind: 'hit' | 'blocked' | 'failed'; readonly limit: LimitName }

function recording(): { limits: RateLimiters; calls: Call[] } {
  const calls: Call[] = [];
  const record = (kind: Call['kind']) => async (limit: LimitName) => {
    calls.push({ kind, limit });
    return { allowed: true } as const;
  };
  return { calls, limits: { enabled: true, hit: record('hit'), blocked: record('blocked'), failed: record('failed'), sync: async () => undefined, heldKeys: () => 0, close: async () => undefined } };
}

const table = brokerPathTable({ authorization: '/auth', registration: '/reg', token: '/token', introspection: '/token/introspection', revocation: '/token/revocation' });

async function through(method: string, path: string, answer: { status?: number; body?: unknown; state?: Record<string, unknown> } = {}): Promise<Call[]> {
  const { limits, calls } = recording();
  const ctx = { method, path, ip: '203.0.113.7', status: 404, body: undefined, state: {} } as unknown as Context;
  await rateLimitMiddleware(limits, table)(ctx, async () => {
    ctx.status = answer.status ?? 200;
    ctx.body = answer.body;
    Object.assign(ctx.state, answer.state);
  });
  return calls;
}

const hits = (calls: Call[]) => calls.filter((c) => c.kind === 'hit').map((c) => c.limit);
const failures = (calls: Call[]) => calls.filter((c) => c.kind === 'failed').map((c) => c.limit);

describe('rate limits: every door counts against its limit', () => {
  const perAddress: Array<[string, string, LimitName]> = [
    ['GET', '/auth', 'address.authorization'],
    ['GET', '/interaction/abc', 'address.interactions'],
    ['POST', '/interaction/abc/consent', 'address.interactions'],
    ['GET', '/national/callback', 'address.interactions'],
    ['GET', '/zj/sso/usp.do', 'address.legacyLogin'],
    ['GET', '/js/auth/login.do', 'address.legacyLogin'],
    ['GET', '/legacy/return', 'address.legacyLogin'],
    ['GET', '/admin/cities', 'address.adminApi'],
    ['POST', '/reg', 'address.registration'],
  ];
  for (const [method, path, limit] of perAddress) {
    it(`${method} ${path} counts against ${limit}`, async () => {
      assert.deepEqual(hits(await through(method, path)), [limit]);
    });
  }

  it('client endpoints count per client inside oidc-provider, not per address; RFC 7592 reads are per client too', async () => {
    for (const path of ['/token', '/token/introspection', '/token/revocation']) assert.deepEqual(hits(await through('POST', path)), [], path);
    assert.deepEqual(hits(await through('GET', '/reg/some-client')), []);
  });

  it('counts failures after the answer: invalid_client, a wrong operator key, a wrong legacy signature (per address and per service)', async () => {
    assert.deepEqual(failures(await through('POST', '/token', { status: 401, body: { error: 'invalid_client' } })), ['failure.clientSecretPerAddress']);
    assert.deepEqual(failures(await through('POST', '/token', { status: 400, body: { error: 'invalid_grant' } })), [], 'not a failed credential');
    assert.deepEqual(failures(await through('GET', '/admin/cities', { status: 401 })), ['failure.operatorKeyPerAddress']);
    assert.deepEqual(failures(await through('GET', '/zj/sso/servlet/simpleauth', { state: { legacyOutcome: { result: 'badSign', service: 'jx-gjj' } } })),
      ['failure.legacySignaturePerAddress', 'failure.legacySignaturePerService']);
    assert.deepEqual(failures(await through('POST', '/js/auth/ticketValidate.do', { state: { legacyOutcome: { result: 'ok', service: 'app' } } })), []);
  });
});
