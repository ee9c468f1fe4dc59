import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { pagesOnly, programEndpointsOf } from '../../broker/platform/http/program-endpoints.ts';

describe('program endpoints: the broker\'s pages step aside', () => {
  const paths: Record<string, string> = { token: '/token', userinfo: '/me', introspection: '/token/introspection', revocation: '/token/revocation', jwks: '/jwks', discovery: '/.well-known/openid-configuration' };
  const endpoints = programEndpointsOf({ pathFor: (name) => paths[name]! });

  it('lists oidc-provider\'s endpoints for programs by their configured paths', () => {
    assert.deepEqual([...endpoints].sort(), Object.values(paths).sort());
  });

  it('runs the middleware on every other path and passes the program endpoints straight on', async () => {
    const seen: string[] = [];
    const gated = pagesOnly(endpoints, async (ctx: { path: string }, next: () => Promise<unknown>) => {
      seen.push(ctx.path);
      await next();
    });
    let nexts = 0;
    const next = async () => {
      nexts += 1;
    };
    for (const path of ['/token', '/me', '/interaction/abc', '/token/introspection', '/healthz', '/account', '/jwks']) await gated({ path } as never, next);
    assert.deepEqual(seen, ['/interaction/abc', '/healthz', '/account']);
    assert.equal(nexts, 7, 'every request goes on');
  });
});
