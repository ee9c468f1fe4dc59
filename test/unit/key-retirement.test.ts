/**
 * Key retirement waits for the longest lifetime of any token the key may have signed, resource
 * servers' own JWT access tokens included (broker/oidc/keys.ts `rotationPolicyOf`), unless forced.
 */
import assert from 'node:assert/strict';
import { initialRing, newGeneration, promote, retire, rotate } from '../../broker/oidc/key-ring.ts';
import { rotationPolicy, rotationPolicyOf } from '../../broker/oidc/keys.ts';
import { createResourceServerRecords } from '../../broker/resources/records.ts';
import { createMemoryStore } from '../../broker/platform/storage/memory.ts';
import { loadConfig } from '../../config/load.ts';

describe('key retirement and token lifetimes', () => {
  it('waits for a resource server\'s access tokens that outlive ID tokens, unless forced', async () => {
    // ID and default access tokens for 10 minutes; a registered API's JWT access tokens for an hour.
    const config = loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { ttl: { idToken: 600, accessToken: 600 } } });
    const store = createMemoryStore();
    await createResourceServerRecords({ store }).register({ identifier: 'https://gjj.example.gov.cn/api', city: '330100', scopes: ['gjj:read'], accessTokenTtl: 3600 }, { actor: 'test' });
    const policy = await rotationPolicyOf(config, store);
    assert.ok(policy.maxTokenLifetimeMs >= 3600_000, `retirement waits ${policy.maxTokenLifetimeMs} ms`);
    assert.ok(rotationPolicy(config).maxTokenLifetimeMs < 3600_000, 'without resources, the configured lifetimes');

    const ring = initialRing((await newGeneration(0)).keys, 0);
    const promoted = promote(rotate(ring, await newGeneration(0), 0), policy, { now: 1_000_000 });
    // An access token for the API signed just before promotion is valid for an hour after it.
    assert.throws(() => retire(promoted, policy, { now: 1_000_000 + 700_000 }), /may still be valid until/);
    assert.equal(retire(promoted, policy, { now: 1_000_000 + 700_000, force: true }).retired.length, 1, 'forced');
    assert.equal(retire(promoted, policy, { now: 1_000_000 + 3_606_000 }).retired.length, 1);
  });

  it('counts configured resource servers too', () => {
    const config = loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { ttl: { idToken: 300, accessToken: 300 }, resources: [{ identifier: 'https://api.example.gov.cn/x', city: '330100', scopes: ['x:read'], accessTokenTtl: 1800 }] } });
    assert.ok(rotationPolicy(config).maxTokenLifetimeMs >= 1800_000);
  });
});
