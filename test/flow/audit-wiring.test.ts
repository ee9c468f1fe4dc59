/**
 * The one audit trail of the broker (issue 13, item 4): the registry's and the resource servers'
 * changes are entries of the same hash-chained trail as the releases, their own read APIs still
 * answer from it, the legacy registry and the key CLIs write into it too, and the production
 * checkpoint key comes from a file, not the store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAuditTrail } from '../../broker/audit/index.ts';
import { checkpointKeyId } from '../../broker/audit/key-operations.ts';
import { cliActor } from '../../broker/members/index.ts';
import { newCheckpointKey, type CheckpointKey } from '../../broker/platform/crypto/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { startFederation, type Federation } from '../support/federation.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('one audit trail for the whole broker', function () {
  this.timeout(30_000);
  let federation: Federation;

  before(async () => {
    federation = await startFederation({ clients: [] });
  });
  after(async () => federation?.stop());

  it('holds registry and resource changes in one verified chain, read back by their own APIs', async () => {
    await federation.broker.registry.issueInitialAccessToken(cliActor(), { city: '330100', ttl_seconds: 600 });
    await federation.broker.resources.register({ identifier: 'https://gjj.hangzhou.example.gov.cn/api', city: '330100', scopes: ['gjj:read'], accessTokenTtl: 600 }, { actor: 'operator-wang' });

    const admin = await federation.broker.audit.list({ type: 'admin' });
    const issued = admin.find((e) => e.action === 'initial_access_token.issue');
    const registered = admin.find((e) => e.action === 'resource.registered');
    assert.ok(issued && issued.details?.area === 'members' && issued.actor?.startsWith('cli:'), 'the registry writes into the trail');
    assert.ok(registered && registered.details?.area === 'resources' && registered.actor === 'operator-wang', 'the resource servers write into the trail');
    assert.ok(admin.some((e) => e.action === 'city.seed'), 'the seed of the reference cities too');
    const verdict = await federation.broker.audit.verify();
    assert.ok(verdict.ok, JSON.stringify(verdict));

    const members = await federation.broker.registry.audit(cliActor(), { city: '330100' });
    assert.equal(members[0]?.action, 'initial_access_token.issue', 'the registry\'s view, newest first');
    assert.equal(members[0]?.id, String(issued.seq).padStart(12, '0'), 'its id is the trail position');
    const resources = await federation.broker.resources.audit.recent(5);
    assert.equal(resources[0]?.event, 'resource.registered');
    assert.equal(resources[0]?.fields.identifier, 'https://gjj.hangzhou.example.gov.cn/api');

    assert.equal(await federation.store.get('registry:audit'), undefined);
    assert.deepEqual(await federation.store.members('registry:audit'), [], 'no separate registry trail any more');
    assert.deepEqual(await federation.store.members('audit:resources'), [], 'no separate resource trail any more');
  });

  it('holds the legacy registry\'s registrations, replacements and removals, with no password', async () => {
    const registry = federation.broker.legacy.registry;
    const system = {
      province: 'zhejiang', city: '330100', serviceCode: 'hz-audit', name: '杭州公积金', scopes: ['profile'],
      callbackUrl: 'https://gjj.hangzhou.example/sso/callback', servicePassword: 'hz-audit-service-password-2027',
    };
    await registry.register(system, { actor: 'operator:op-zj' });
    await registry.register({ ...system, suspended: true }, { replace: true, actor: 'operator:op-zj' });
    await registry.remove('zhejiang', 'hz-audit', { actor: 'operator:op-zj' });
    const legacy = (await federation.broker.audit.list({ type: 'admin' })).filter((e) => e.details?.area === 'legacy');
    assert.deepEqual(legacy.map((e) => e.action), ['legacy.register', 'legacy.replace', 'legacy.remove']);
    assert.ok(legacy.every((e) => e.actor === 'operator:op-zj'));
    assert.ok(!JSON.stringify(legacy).includes(system.servicePassword), 'no password');
    assert.equal((await federation.broker.audit.verify()).ok, true);
  });

  it('holds key operations of the CLIs (rotate-data-key, new-checkpoint-key) by key id only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-key-audit-'));
    const path = join(dir, 'store.sqlite');
    const env = { ...process.env, TONGBAN_MODE: 'development', TONGBAN_STORE: `sqlite:${path}`, TONGBAN_STORE_NAMESPACE: 'keyaudit', TONGBAN_CONFIG: '' };
    const run = (script: string, ...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => {
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
    try {
      const rotated = await run('scripts/cli/keys.ts', 'rotate-data-key');
      assert.equal(rotated.code, 0, rotated.stderr);
      const printed = await run('scripts/cli/audit.ts', 'new-checkpoint-key');
      assert.equal(printed.code, 0, printed.stderr);
      const key = JSON.parse(printed.stdout) as CheckpointKey;
      const store = await createStore(`sqlite:${path}`, { namespace: 'keyaudit' });
      try {
        const dataKeys = await store.get<{ keys: Array<{ id: string; secret: string }> }>('keys:data');
        const { trail } = await openAuditTrail({}, store);
        const entries = (await trail.list({ type: 'admin' })).filter((e) => e.details?.area === 'keys');
        assert.deepEqual(entries.map((e) => e.action), ['key.data.rotate', 'key.checkpoint.new']);
        assert.equal(entries[0]!.details?.dataKey, dataKeys?.keys[0]?.id, 'the new data key by its id');
        assert.equal(entries[1]!.details?.checkpointKey, checkpointKeyId(key));
        assert.ok(entries.every((e) => e.actor?.startsWith('cli:')));
        const written = JSON.stringify(entries);
        for (const secret of dataKeys?.keys.map((k) => k.secret) ?? []) assert.ok(!written.includes(secret), 'no data key material');
        assert.ok(key.suite === 'international' && !written.includes(String(key.privateJwk.d)), 'no checkpoint key material');
        assert.equal((await trail.verify()).ok, true);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signs checkpoints with the key of keys.auditCheckpointKeyFile, and refuses one of the other suite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-checkpoint-'));
    const store = await createStore('memory:', {});
    try {
      const key = await newCheckpointKey('international');
      const file = join(dir, 'checkpoint-key.json');
      writeFileSync(file, JSON.stringify(key));
      const fromFile = await openAuditTrail({ keys: { auditCheckpointKeyFile: file } }, store);
      const fromStore = await openAuditTrail({}, store);
      assert.notEqual(fromFile.signerPublicKey, fromStore.signerPublicKey, 'not the store\'s key');
      assert.equal(JSON.parse(fromFile.signerPublicKey).x, key.suite === 'international' ? key.publicJwk.x : undefined);

      const gm = join(dir, 'gm-key.json');
      writeFileSync(gm, JSON.stringify(await newCheckpointKey('gm')));
      await assert.rejects(openAuditTrail({ keys: { auditCheckpointKeyFile: gm } }, store), /crypto.suite "gm", this broker runs "international"/);
      await assert.rejects(openAuditTrail({ keys: { auditCheckpointKeyFile: join(dir, 'missing.json') } }, store), /cannot read a JSON checkpoint key \(ENOENT\)/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
