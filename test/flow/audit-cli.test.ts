/**
 * `npm run audit` as an operator uses it: a separate process on the broker's store (a SQLite file
 * here). `verify` exits 0 on a sound chain and 1 naming the first bad entry after an intruder edits
 * a row; `list --json` prints the entries, filtered, as one JSON array.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sqlite3 from 'sqlite3';
import { openAuditTrail, type AuditEntry } from '../../broker/audit/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('audit CLI', function auditCli() {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'tongban-audit-cli-'));
  const path = join(dir, 'store.sqlite');
  const env = { ...process.env, TONGBAN_MODE: 'development', TONGBAN_STORE: `sqlite:${path}`, TONGBAN_STORE_NAMESPACE: 'auditcli', TONGBAN_CONFIG: '' };

  const run = (...args: string[]): Promise<Run> => new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/cli/audit.ts', ...args], { cwd: root, env, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });

  before(async () => {
    const store = await createStore(`sqlite:${path}`, { namespace: 'auditcli' });
    try {
      const { trail } = await openAuditTrail({}, store);
      await trail.append({ type: 'admin', action: 'app.suspend', actor: 'operator-1', client: 'hz-portal' });
      await trail.append({ type: 'release', action: 'claims.release', client: 'hz-portal', subject: 'pairwise-1', details: { items: ['id_number'] } });
      await trail.append({ type: 'release', action: 'claims.release', client: 'sz-portal', subject: 'pairwise-2', details: { items: ['phone'] } });
    } finally {
      await store.close();
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verify: exit 0 while the chain holds', async () => {
    const result = await run('verify');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /audit trail holds: 3 entries/);
  });

  it('names on stderr the configuration and store it read, as the broker does (stdout stays the answer)', async () => {
    const result = await run('verify');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^audit: no config file \([^)]+\); store sqlite:.*store\.sqlite, namespace auditcli\n/);
    assert.doesNotMatch(result.stdout, /namespace/);
  });

  it('list --json prints the entries, filtered by type, client and time', async () => {
    const all = JSON.parse((await run('list', '--json')).stdout) as AuditEntry[];
    assert.equal(all.length, 3);
    const releases = JSON.parse((await run('list', '--json', '--type', 'release', '--client', 'hz-portal')).stdout) as AuditEntry[];
    assert.deepEqual(releases.map((entry) => [entry.seq, entry.subject]), [[1, 'pairwise-1']]);
    const none = JSON.parse((await run('list', '--json', '--since', new Date(Date.now() + 3_600_000).toISOString())).stdout) as AuditEntry[];
    assert.deepEqual(none, []);
    const silent = await new Promise<string>((done, fail) => {
      execFile('npm', ['run', '--silent', 'audit', '--', 'list', '--json', '--type', 'admin'], { cwd: root, env, timeout: 30_000 }, (error, stdout) => (error ? fail(error) : done(stdout)));
    });
    assert.equal((JSON.parse(silent) as AuditEntry[])[0]?.action, 'app.suspend');
  });

  it('refuses bad options with exit 2', async () => {
    assert.equal((await run('list', '--type', 'gossip')).code, 2);
    assert.equal((await run('list', '--since', 'yesterday-ish')).code, 2);
    assert.equal((await run('frobnicate')).code, 2);
  });

  it('verify: exit 1 naming the first bad entry after a row is edited', async () => {
    await new Promise<void>((done, fail) => {
      const db = new sqlite3.Database(path, (openError) => {
        if (openError) return fail(openError);
        db.run("UPDATE tongban_logs SET entry = replace(entry, 'sz-portal', 'xx-portal') WHERE log = 'auditcli:audit' AND position = 2",
          (error) => db.close(() => (error ? fail(error) : done())));
      });
    });
    const result = await run('verify');
    assert.equal(result.code, 1);
    assert.match(result.stdout, /broken at entry #2 \(position 2\): hash does not match/);
  });
});
