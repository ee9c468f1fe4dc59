/**
 * The one audit trail of the broker (issue 13, item 4): the registry's and the resource servers'
 * changes are entries of the same hash-chained trail as the releases, their own read APIs still
 * answer from it, and the production checkpoint key comes from a file, not the store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuditTrail } from '../../broker/audit/index.ts';
import { cliActor } from '../../broker/members/index.ts';
import { newCheckpointKey } from '../../broker/platform/crypto/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { startFederation, type Federation } from '../support/federation.ts';

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
