/**
 * The check behind the multi-node suites' personal-data test (test/support/process-logs.ts) and
 * the output capture it relies on (scripts/dev/output.ts): it must find what it looks for, refuse
 * lines that are not JSON logs, and see every line a process wrote.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { observeProcessOutputs, type OutputLine, type ProcessOutput } from '../../scripts/dev/processes.ts';
import { captureOutput } from '../../scripts/dev/output.ts';
import { checkProcessLogs, collectReceivedSecrets, configuredSecrets, linesAsOutput, personalValues } from '../support/process-logs.ts';

const log = (fields: Record<string, unknown>): OutputLine => {
  const json = { level: 'info', time: '2026-12-06T00:00:00.000Z', event: 'x', ...fields };
  return { stream: 'stderr', text: JSON.stringify(json), json };
};
const server = (lines: OutputLine[], extra: Partial<ProcessOutput> = {}): ProcessOutput =>
  ({ name: 'scripts/cli/broker.ts', kind: 'server', pid: 1, dropped: 0, ended: Promise.resolve(), lines, ...extra });
const startup: OutputLine[] = [
  { stream: 'stderr', text: 'broker: config /tmp/tongban-config-x/config.json (TONGBAN_CONFIG); store redis://127.0.0.1:6379, namespace t1' },
  { stream: 'stderr', text: '!'.repeat(78) },
  { stream: 'stderr', text: '!!  tongban runs in DEVELOPMENT mode: signing and cookie keys are generated and kept in' },
  { stream: 'stdout', text: 'tongban broker listening on http://127.0.0.1:4000 (issuer http://127.0.0.1:3000)' },
];

describe('personal-data check of process logs', () => {
  it('covers the names, ID numbers, phones (both forms) and credit codes of the simulator', () => {
    for (const value of ['张三', '李四', '王五', '赵六', '330106198504121356', '+8613900000001', '13900000001', '91330402MA2TB0J167']) {
      assert.ok(personalValues.includes(value), value);
    }
  });

  it('passes clean JSON lines and the start-up lines, and counts what it checked', () => {
    const check = checkProcessLogs([server([...startup, log({ request_id: 'r-1' }), log({ level: 'warn' })])], ['a-long-secret-value']);
    assert.deepEqual(
      { processes: check.processes, lines: check.lines, jsonLines: check.jsonLines, textLines: check.textLines },
      { processes: 1, lines: 6, jsonLines: 2, textLines: 4 },
    );
    assert.equal(check.values, personalValues.length + 1);
  });

  it('finds personal data and secrets anywhere in a line, and names the process', () => {
    for (const line of [log({ name: '王五' }), log({ note: 'id 320505199006202717 seen' }), log({ to: '13900000004' }), log({ entity: '91310115MA2TB0U40X' }), log({ header: 'Bearer tok-0123456789' })]) {
      assert.throws(() => checkProcessLogs([server([line])], ['tok-0123456789']), /scripts\/cli\/broker\.ts \(pid 1\) stderr: carries/);
    }
    // A value too short to look for is ignored rather than matching unrelated text.
    assert.doesNotThrow(() => checkProcessLogs([server([log({ n: 'abc' })])], ['abc']));
  });

  it('refuses plain text, JSON without a level, dropped lines and a server without a single log line', () => {
    assert.throws(() => checkProcessLogs([server([log({}), { stream: 'stderr', text: 'TypeError: boom' }])]), /not a JSON log line: TypeError: boom/);
    assert.throws(() => checkProcessLogs([server([{ stream: 'stderr', text: '{"event":"x"}', json: { event: 'x' } }])]), /without a level/);
    assert.throws(() => checkProcessLogs([server([log({})], { dropped: 3 })]), /3 lines were dropped/);
    assert.throws(() => checkProcessLogs([server(startup)]), /no JSON log line at all/);
  });

  it("checks a command's diagnostics but not its answer on stdout (a registered app's secret)", () => {
    const command = (lines: OutputLine[]): ProcessOutput => ({ name: 'scripts/cli/cities.ts', kind: 'command', pid: 2, dropped: 0, ended: Promise.resolve(), lines });
    const check = checkProcessLogs([command([{ stream: 'stdout', text: '{"client_secret":"s3cret-s3cret"}' }, { stream: 'stderr', text: 'cities: no config file' }])], ['s3cret-s3cret']);
    assert.equal(check.answerLines, 1);
    assert.throws(() => checkProcessLogs([command([{ stream: 'stderr', text: 'failed for 张三' }])]), /carries 张三/);
  });

  it('checks in-process lines (a memory logger) the same way', () => {
    assert.throws(() => checkProcessLogs([linesAsOutput('in-process broker', [{ level: 'info', event: 'x', ticket: 'ST-0123456789' }])], ['ST-0123456789']), /in-process broker/);
  });

  it('takes client secrets and service passwords from a configuration', () => {
    const secrets = configuredSecrets({
      clients: [{ client_id: 'a', client_secret: 'client-secret-a' }],
      national: { clientId: 'b', clientSecret: 'national-secret-b', timeoutMs: 2000 },
      legacySystems: [{ serviceCode: 'jx-gjj', servicePassword: 'service-password-c' }],
    });
    assert.deepEqual(secrets.sort(), ['client-secret-a', 'national-secret-b', 'service-password-c']);
  });
});

describe('process output capture', () => {
  it('keeps every line of both streams (the last one without a newline too), parsed where JSON, for observers', async () => {
    const observed = observeProcessOutputs();
    const child = spawn(process.execPath, ['-e', `
      process.stdout.write('plain out\\n{"level":"info","event":"a"}\\n');
      process.stderr.write('{"level":"warn","event":"b"}\\n{not json\\nlast without newline');
    `], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = captureOutput(child, 'inline', { keep: true });
    observed.close();
    await output.ended;
    assert.deepEqual(observed.outputs, [output]);
    const byStream = (stream: string) => output.lines.filter((l) => l.stream === stream).map((l) => [l.text, l.json?.event]);
    assert.deepEqual(byStream('stdout'), [['plain out', undefined], ['{"level":"info","event":"a"}', 'a']]);
    assert.deepEqual(byStream('stderr'), [['{"level":"warn","event":"b"}', 'b'], ['{not json', undefined], ['last without newline', undefined]]);
    assert.equal(output.dropped, 0);
  });
});

describe('secrets received through fetch', () => {
  it('collects tokens of JSON answers, codes of redirects and session cookies, then restores fetch', async () => {
    const app = http.createServer((request, response) => {
      if (request.url === '/token') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ access_token: 'at-0123456789', token_type: 'Bearer', error: 'not_a_secret' }));
      } else {
        response.writeHead(303, {
          location: 'http://127.0.0.1:9/callback?code=code-0123456789&state=s1',
          'set-cookie': ['_session=session-0123456789; path=/; httponly', '_interaction=uid-0123456789; path=/interaction', 'tongban_resume=uid-0123456789; path=/auth'],
        });
        response.end();
      }
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const original = globalThis.fetch;
    const received = collectReceivedSecrets();
    try {
      assert.equal((await (await fetch(`${base}/token`)).json() as { access_token: string }).access_token, 'at-0123456789');
      await fetch(`${base}/auth`, { redirect: 'manual' });
    } finally {
      received.close();
      app.close();
    }
    assert.equal(globalThis.fetch, original);
    assert.deepEqual([...received.secrets].sort(), ['at-0123456789', 'code-0123456789', 'session-0123456789']);
  });
});
