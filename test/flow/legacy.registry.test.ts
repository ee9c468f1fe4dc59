/**
 * The registry of legacy systems: configuration entries (validated at load), run-time records in
 * the store (shared by every node), and passwords that never leave the server side.
 */
import assert from 'node:assert/strict';
import type { ConfiguredLegacySystem } from '../../config/defaults.ts';
import { loadConfig } from '../../config/load.ts';
import { createLegacyRegistry, LegacyRegistryCode, LegacyRegistryError } from '../../broker/legacy/index.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { randomBytes } from 'node:crypto';
import { createSealer } from '../../broker/platform/crypto/index.ts';
import { storeAuditTrail } from '../../broker/audit/index.ts';
import { problemsOf } from '../support/config-problems.ts';

/** Stored service passwords are sealed under a data key (a fresh one here). */
const sealer = createSealer('international', [{ id: 'lg1', secret: randomBytes(32) }]);

const configured: ConfiguredLegacySystem = {
  province: 'zhejiang',
  city: '330400',
  serviceCode: 'jx-gjj',
  name: '嘉兴公积金',
  callbackUrl: 'https://gjj.jiaxing.example/sso/callback',
  servicePassword: 'jx-gjj-service-password-2027',
  scopes: ['profile', 'id_number'],
};
const suzhou: ConfiguredLegacySystem = {
  province: 'jiangsu',
  city: '320500',
  serviceCode: 'sz-gjj',
  name: '苏州公积金',
  callbackUrl: 'https://gjj.suzhou.example/sso/callback',
  servicePassword: 'sz-gjj-app-secret-2027-xyz',
  scopes: ['openid', 'profile', 'profile'],
};

for (const url of ['memory:', 'postgres://postgres@127.0.0.1:5432/test']) {
  describe(`legacy system registry (${url.split(':')[0]})`, () => {
    let store: Store;
    before(async () => {
      store = await createStore(url, { namespace: `lg${Math.random().toString(36).slice(2, 10)}`, logger: createMemoryLogger() });
    });
    after(async () => store?.close());

    it('registers, lists without passwords, gets the full record on every node, removes', async () => {
      const node1 = createLegacyRegistry({ store, sealer, configured: [configured], mode: 'production' });
      const node2 = createLegacyRegistry({ store, sealer, configured: [configured], mode: 'production' });
      const view = await node1.register(suzhou);
      assert.deepEqual(view.scopes, ['profile'], 'openid is implied, duplicates dropped');
      assert.equal('servicePassword' in view, false);

      const full = await node2.get('jiangsu', 'sz-gjj');
      assert.equal(full?.servicePassword, suzhou.servicePassword);
      assert.equal(full?.source, 'store');
      assert.equal((await node2.get('zhejiang', 'jx-gjj'))?.source, 'config');
      assert.equal(await node2.get('zhejiang', 'sz-gjj'), undefined, 'a service code belongs to one province');

      const listed = await node2.list();
      assert.deepEqual(listed.map((s) => `${s.province}:${s.serviceCode}`), ['zhejiang:jx-gjj', 'jiangsu:sz-gjj']);
      assert.ok(!JSON.stringify(listed).includes('password') && !JSON.stringify(listed).includes(suzhou.servicePassword));
      assert.deepEqual((await node2.list('jiangsu')).map((s) => s.serviceCode), ['sz-gjj']);

      assert.equal(await node1.remove('jiangsu', 'sz-gjj'), true);
      assert.equal(await node2.get('jiangsu', 'sz-gjj'), undefined);
      assert.equal(await node2.remove('jiangsu', 'sz-gjj'), false);
    });

    it('refuses duplicates (also raced on two nodes), allows replace, and protects configured systems', async () => {
      const node1 = createLegacyRegistry({ store, sealer, configured: [configured], mode: 'production' });
      const node2 = createLegacyRegistry({ store, sealer, configured: [configured], mode: 'production' });
      const raced = await Promise.allSettled([node1.register({ ...suzhou, serviceCode: 'sz-tax' }), node2.register({ ...suzhou, serviceCode: 'sz-tax' })]);
      assert.equal(raced.filter((r) => r.status === 'fulfilled').length, 1);
      const refused = raced.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((refused.reason as LegacyRegistryError).code, LegacyRegistryCode.exists);

      const suspended = await node2.register({ ...suzhou, serviceCode: 'sz-tax', suspended: true }, { replace: true });
      assert.equal(suspended.suspended, true);
      assert.equal((await node1.get('jiangsu', 'sz-tax'))?.suspended, true);

      await assert.rejects(node1.register(configured), (e: LegacyRegistryError) => e.code === LegacyRegistryCode.configured);
      await assert.rejects(node1.remove('zhejiang', 'jx-gjj'), (e: LegacyRegistryError) => e.code === LegacyRegistryCode.configured);
      assert.equal(await node1.remove('jiangsu', 'sz-tax'), true);
    });

    it('keeps a stored service password sealed: no record in the store holds it in clear', async () => {
      const registry = createLegacyRegistry({ store, sealer, configured: [], mode: 'production' });
      await registry.register({ ...suzhou, serviceCode: 'sz-sealed' });
      const system = await store.get<Record<string, unknown>>('legacy:system:jiangsu:sz-sealed');
      assert.ok(system && !('servicePassword' in system), 'the system record holds no password');
      const sealedRecord = JSON.stringify(await store.get('legacy:system-password:jiangsu:sz-sealed'));
      assert.ok(sealedRecord.includes('tb1.international.lg1.') && !sealedRecord.includes(suzhou.servicePassword));
      assert.equal((await registry.get('jiangsu', 'sz-sealed'))?.servicePassword, suzhou.servicePassword);
      const otherKeys = createLegacyRegistry({ store, sealer: createSealer('international', [{ id: 'lg2', secret: randomBytes(32) }]), configured: [], mode: 'production' });
      await assert.rejects(otherKeys.get('jiangsu', 'sz-sealed'), (e: Error & { code?: string }) => e.code === 'record_unsealable');
      await registry.remove('jiangsu', 'sz-sealed');
    });

    it('writes registration, replacement and removal into the audit trail, with no password', async () => {
      const trail = storeAuditTrail(store);
      const registry = createLegacyRegistry({ store, sealer, configured: [], mode: 'production', audit: trail });
      const from = (await trail.read()).length;
      await registry.register({ ...suzhou, serviceCode: 'sz-audit' }, { actor: 'operator:op-js' });
      await registry.register({ ...suzhou, serviceCode: 'sz-audit', servicePassword: 'sz-gjj-app-secret-2028-new', suspended: true }, { replace: true, actor: 'operator:op-js' });
      assert.equal(await registry.remove('jiangsu', 'sz-audit', { actor: 'cli:ops' }), true);
      assert.equal(await registry.remove('jiangsu', 'sz-audit'), false, 'nothing removed, nothing noted');
      const entries = (await trail.list({ type: 'admin' })).filter((e) => e.seq >= from && e.details?.area === 'legacy');
      assert.deepEqual(entries.map((e) => [e.action, e.actor]), [['legacy.register', 'operator:op-js'], ['legacy.replace', 'operator:op-js'], ['legacy.remove', 'cli:ops']]);
      assert.equal((entries[1]!.details?.after as { suspended?: boolean } | undefined)?.suspended, true);
      assert.equal(entries[1]!.details?.passwordChanged, true);
      assert.deepEqual(entries[2]!.details, { area: 'legacy', province: 'jiangsu', serviceCode: 'sz-audit' });
      const written = JSON.stringify(entries);
      assert.ok(!written.includes(suzhou.servicePassword) && !written.includes('sz-gjj-app-secret-2028-new') && !written.includes('servicePassword'), 'no password');
      assert.equal((await trail.verify()).ok, true);
    });

    it('refuses an invalid description with every problem named', async () => {
      const registry = createLegacyRegistry({ store, sealer, configured: [], mode: 'production' });
      await assert.rejects(
        registry.register({ province: 'shanghai', city: '3304', serviceCode: 'a b', name: '', callbackUrl: 'http://127.0.0.1/cb#x', servicePassword: 'short', scopes: ['not_a_scope'] }),
        (error: LegacyRegistryError) => {
          assert.equal(error.code, LegacyRegistryCode.invalid);
          for (const field of ['province', 'city', 'serviceCode', 'name', 'callbackUrl', 'servicePassword', 'scopes']) {
            assert.ok(error.problems.some((p) => p.startsWith(`legacySystem.${field}:`)), `no problem for ${field}: ${error.problems.join('; ')}`);
          }
          assert.ok(!error.message.includes('short'), 'the password is not repeated back');
          return true;
        },
      );
      await assert.rejects(registry.register({ ...configured, city: '320500' }), (e: LegacyRegistryError) => e.problems.some((p) => p.includes('not in zhejiang')));
    });
  });
}

describe('legacySystems configuration', () => {
  it('loads valid systems; loopback http callbacks only in development', () => {
    const local = { ...configured, callbackUrl: 'http://127.0.0.1:8080/sso/callback' };
    const config = loadConfig({ env: { TONGBAN_MODE: 'development' }, overrides: { legacySystems: [local, suzhou] } });
    assert.equal(config.legacySystems?.length, 2);
    assert.equal(config.ttl.legacyTicket, 60);
    const problems = problemsOf(() => loadConfig({
      env: { TONGBAN_MODE: 'production', TONGBAN_ISSUER: 'https://tongban.example.gov.cn' },
      overrides: { legacySystems: [local] },
    }));
    assert.ok(problems.some((p) => p.startsWith('legacySystems[0].callbackUrl:')), problems.join('; '));
  });

  it('reports every bad entry with its key, duplicates and the reserved bridge client ids', () => {
    const problems = problemsOf(() => loadConfig({
      env: { TONGBAN_MODE: 'development' },
      overrides: {
        legacySystems: [configured, { ...configured, name: 'again' }, { ...suzhou, province: 'anhui' }, { ...suzhou, servicePassword: '' }],
        clients: [{ client_id: 'tongban-legacy-zhejiang', city: '330000', redirect_uris: ['http://127.0.0.1:9/cb'] }],
        ttl: { legacyTicket: 0 },
      },
    }));
    for (const key of ['legacySystems[1].serviceCode', 'legacySystems[2].province', 'legacySystems[3].servicePassword', 'clients[0].client_id', 'ttl.legacyTicket']) {
      assert.ok(problems.some((p) => p.startsWith(key)), `no problem reported for ${key}: ${problems.join('; ')}`);
    }
  });
});
