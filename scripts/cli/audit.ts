/**
 * The audit trail for operators: `npm run audit -- <command>`, with the broker's configuration
 * (TONGBAN_CONFIG, TONGBAN_* variables; with none of them, that of `npm start`:
 * scripts/cli/configuration.ts).
 *
 *   verify            checks the whole chain and its signed checkpoints
 *   list [--json] [--type admin|release|checkpoint] [--client <id>] [--since <ISO time>]
 *                     prints the entries (`--json`: one JSON array, for `npm run --silent`)
 *   new-checkpoint-key [--suite international|gm]
 *                     prints a new checkpoint signing key (JSON) for `keys.auditCheckpointKeyFile`,
 *                     and records its fingerprint (never the key) in the trail
 *
 * Options: --trust <public key> (repeatable) pins the checkpoint signer; by default the store's own.
 * Exit status: 0 done (the chain holds), 1 the chain is broken (the first bad entry is named),
 * 2 usage or configuration problem.
 */
import { parseArgs } from 'node:util';
import { configurationFor } from './configuration.ts';
import { auditEntryTypes, openAuditTrail, type AuditEntry, type AuditEntryType } from '../../broker/audit/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { cryptoSuiteNames, newCheckpointKey, type CryptoSuiteName } from '../../broker/platform/crypto/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { checkpointKeyId, recordKeyOperation } from '../../broker/audit/key-operations.ts';
import { cliActor } from '../../broker/members/actors.ts';

const usage = `usage: npm run audit -- verify [--trust <public key>]
       npm run --silent audit -- list --json [--type admin|release|checkpoint] [--client <id>] [--since <ISO time>]
       npm run --silent audit -- new-checkpoint-key [--suite international|gm] > checkpoint-key.json`;

/** The trail's actor for this terminal: `cli:<user>`, as the member registry's CLI entries. */
function actor(): string {
  const who = cliActor();
  return who.kind === 'cli' ? `cli:${who.user}` : 'cli:unknown';
}

function line(entry: AuditEntry): string {
  const who = [entry.actor && `by ${entry.actor}`, entry.client && `client ${entry.client}`, entry.subject && `sub ${entry.subject}`].filter(Boolean).join(', ');
  return `#${entry.seq} ${entry.time} ${entry.type.padEnd(10)} ${entry.action}${who ? ` (${who})` : ''}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      json: { type: 'boolean' }, type: { type: 'string' }, client: { type: 'string' }, since: { type: 'string' },
      trust: { type: 'string', multiple: true }, suite: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  const suite = values.suite ?? 'international';
  if (command === 'new-checkpoint-key' && !cryptoSuiteNames.includes(suite as CryptoSuiteName)) {
    process.stderr.write(`--suite must be one of ${cryptoSuiteNames.join(', ')}\n`);
    return 2;
  }
  if (values.help || (command !== 'verify' && command !== 'list' && command !== 'new-checkpoint-key')) {
    (values.help ? process.stdout : process.stderr).write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  if (values.type !== undefined && !auditEntryTypes.includes(values.type as AuditEntryType)) {
    process.stderr.write(`--type must be one of ${auditEntryTypes.join(', ')}\n`);
    return 2;
  }
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since && Number.isNaN(since.getTime())) {
    process.stderr.write('--since must be a time such as 2026-01-31 or 2026-01-31T08:00:00Z\n');
    return 2;
  }
  const config = configurationFor('cli', 'audit');
  if (!config) return 2;
  let store: Store | undefined;
  try {
    store = await createStore(config.store, { namespace: config.storeNamespace });
    const { trail, signerPublicKey } = await openAuditTrail(config, store);
    if (command === 'new-checkpoint-key') {
      const key = await newCheckpointKey(suite as CryptoSuiteName);
      // The trail names the new key by its fingerprint only, before the key leaves this process.
      await recordKeyOperation(trail, 'key.checkpoint.new', actor(), { checkpointKey: checkpointKeyId(key), suite: key.suite });
      // A private key: printed for the operator to put in a file readable by the broker only.
      process.stdout.write(`${JSON.stringify(key)}\n`);
      return 0;
    }
    if (command === 'verify') {
      const verdict = await trail.verify({ trustedSigners: values.trust?.length ? values.trust : [signerPublicKey] });
      if (verdict.ok) {
        process.stdout.write(`audit trail holds: ${verdict.entries} entries, ${verdict.checkpoints} signed checkpoints, head ${verdict.head}\n`);
        return 0;
      }
      process.stdout.write(`audit trail broken at entry #${verdict.seq ?? '?'} (position ${verdict.position}): ${verdict.reason}\n`);
      return 1;
    }
    const entries = await trail.list({
      ...(values.type ? { type: values.type as AuditEntryType } : {}),
      ...(values.client ? { client: values.client } : {}),
      ...(since ? { since } : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify(entries, null, 2)}\n` : entries.map((entry) => `${line(entry)}\n`).join(''));
    return 0;
  } finally {
    await store?.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`audit: ${(error as Error).message}\n`);
  process.exit(2);
});
