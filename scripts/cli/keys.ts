/**
 * Signing key rotation for operators: `npm run keys -- <command>`, with the broker's configuration
 * (TONGBAN_CONFIG, TONGBAN_* variables; with none of them, that of `npm start`:
 * scripts/cli/configuration.ts). Works on the key ring the nodes read: the store in
 * development, the signing keys file (keys.signingKeysFile) in production.
 *
 *   list                 generations, their state and kids, and when a previous one may be retired
 *   rotate               add a new generation as "next": published in JWKS, not signing yet
 *   promote [--force]    make "next" sign; the current generation becomes "previous"
 *   retire [--force] [--id <generation>]
 *                        remove previous generations whose tokens have all expired
 *   rotate-data-key      seal personal data under a new data key: development adds one to the
 *                        store; production uses the first of keys.dataKeys. Re-seals every record.
 *
 * Every change is an admin entry of the audit trail (key ids only, broker/audit/key-operations.ts).
 * Options: --json prints the ring's public description as JSON.
 * Exit status: 0 done, 1 refused (the message says why), 2 configuration problem.
 */
import { parseArgs } from 'node:util';
import { configurationFor } from './configuration.ts';
import { describeRing, KeyRotationRefused, keysUsage, runKeysCommand, type KeyRing, type RotationPolicy } from '../../broker/oidc/key-ring.ts';
import { keyRingSourceOf, rotationPolicyOf } from '../../broker/oidc/keys.ts';
import { rotateDataKey } from '../../broker/platform/crypto/rotate-data-key.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { openAuditTrail } from '../../broker/audit/open.ts';
import { recordKeyOperation, signingRingIds, type KeyOperation } from '../../broker/audit/key-operations.ts';
import { cliActor } from '../../broker/members/actors.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

const signingOperations: Readonly<Record<string, KeyOperation>> = {
  rotate: 'key.signing.rotate', promote: 'key.signing.promote', retire: 'key.signing.retire',
};

/** The trail's actor for this terminal: `cli:<user>`, as the member registry's CLI entries. */
function actor(): string {
  const who = cliActor();
  return who.kind === 'cli' ? `cli:${who.user}` : 'cli:unknown';
}

function printRing(ring: KeyRing, policy: RotationPolicy, json: boolean): void {
  const view = describeRing(ring, policy);
  if (json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  process.stdout.write(`key ring version ${view.version}\n`);
  for (const g of view.generations) {
    const when = g.state === 'previous' ? `retirable from ${g.retirableAt}` : g.state === 'current' ? `signing since ${g.promotedAt ?? g.createdAt}` : `published since ${g.createdAt}`;
    process.stdout.write(`  ${g.state.padEnd(8)} ${g.id.padEnd(18)} ${g.kids.join(', ')}  (${when})\n`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { force: { type: 'boolean' }, id: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${keysUsage}\n`);
    return command || values.help ? 0 : 2;
  }
  const config = configurationFor('cli', 'keys');
  if (!config) return 2;
  let store: Store | undefined;
  try {
    // The store also when the ring is in a file: the resource servers' token lifetimes bound retirement.
    store = await createStore(config.store, { namespace: config.storeNamespace });
    if (command === 'rotate-data-key') {
      const done = await rotateDataKey(config, store);
      const { trail } = await openAuditTrail(config, store);
      await recordKeyOperation(trail, 'key.data.rotate', actor(), {
        dataKey: done.keyId, added: done.added, resealed: done.resealed, current: done.current, gone: done.gone,
      });
      process.stdout.write(`${done.added ? 'added data key' : 'sealing with data key'} ${done.keyId}; re-sealed ${done.resealed} records (${done.current} already current, ${done.gone} expired)\n`);
      return 0;
    }
    const source = keyRingSourceOf(config, store);
    const policy = await rotationPolicyOf(config, store);
    const result = await runKeysCommand(command, source, policy, { force: values.force ?? false, ...(values.id ? { id: values.id } : {}) });
    const operation = signingOperations[command];
    if (operation) {
      const { trail } = await openAuditTrail(config, store);
      await recordKeyOperation(trail, operation, actor(), { ring: signingRingIds(result.ring) });
    }
    if (result.message) process.stderr.write(`${result.message}\n`);
    printRing(result.ring, policy, values.json ?? false);
    return 0;
  } catch (error) {
    if (error instanceof KeyRotationRefused) {
      process.stderr.write(`refused: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`keys: ${(error as Error).message}\n`);
  process.exit(1);
});
