/**
 * What a brokered login leaves in Redis: after a few logins through the real flow, the records
 * oidc-provider keeps through the broker's adapter (tokens, code, session, grant, their pointers,
 * grant sets and consumed markers) stay within a budget per login, counted as the benchmark counts
 * it (`MEMORY USAGE` of every key, Redis 7 with jemalloc). The target is 3 KB per signed-in
 * session for everything the broker keeps; these records are most of it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import type { ConfiguredClient } from '../../config/defaults.ts';
import { Browser } from '../support/browser.ts';
import { login, relyingParty, startFederation, type Federation, type RelyingParty } from '../support/federation.ts';

const redisUrl = 'redis://127.0.0.1:6379';
/** Bytes of oidc records per login; 2,614 measured (4,112 before the compact form). */
const oidcBudgetPerLogin = 2_800;
const logins = 4;

// As the benchmark's app: a first-party portal asking for `openid profile`.
const portal: ConfiguredClient = {
  client_id: 'bench-portal',
  client_secret: 'bench-portal-secret-0123456789',
  city: '330100',
  redirect_uris: ['http://127.0.0.1:9/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
  first_party: true,
};

describe('what a login leaves in Redis', function () {
  this.timeout(60_000);
  // As long as the benchmark's `bench-broker`: key lengths decide allocation classes.
  const namespace = `f${randomUUID().replaceAll('-', '').slice(0, 11)}`;
  let federation: Federation;
  let rp: RelyingParty;

  before(async () => {
    federation = await startFederation({ clients: [portal], store: redisUrl, overrides: { storeNamespace: namespace } });
    rp = await relyingParty(federation.issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
  });
  after(async () => federation?.stop());

  it(`keeps oidc-provider's records of a login within ${oidcBudgetPerLogin} bytes`, async () => {
    for (let n = 0; n < logins; n += 1) await login(new Browser(), rp, 'zhangsan');
    const client = createClient({ url: redisUrl });
    client.on('error', () => undefined);
    await client.connect();
    const shapes = new Map<string, number>();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*:oidc:*`, COUNT: 1000 })) {
        for (const key of keys) {
          const bytes = await client.memoryUsage(key, { SAMPLES: 0 });
          const shape = key.slice(namespace.length + 1).replace(/[A-Za-z0-9_-]{20,}/g, '*');
          shapes.set(shape, (shapes.get(shape) ?? 0) + (bytes ?? 0));
        }
      }
    } finally {
      client.destroy();
    }
    const perLogin = [...shapes.values()].reduce((a, b) => a + b, 0) / logins;
    const table = [...shapes].sort().map(([shape, bytes]) => `${shape}: ${bytes / logins}`).join(', ');
    assert.ok(shapes.has('r:oidc:RefreshToken:*') && shapes.has('r:oidc:Session:*'), `the login's records are there: ${table}`);
    assert.ok(perLogin <= oidcBudgetPerLogin, `${perLogin} bytes per login (${table})`);
  });
});
