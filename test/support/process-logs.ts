/**
 * The personal-data check of the logs of every process a multi-node test starts (issue 14): no line
 * may carry a test person's name, ID number or phone, a company's credit code, or a token, secret or
 * code the test saw; every line of a server is a JSON log line with a level (the few plain start-up
 * lines of scripts/cli/broker.ts excepted). The secrets are collected where the test receives them.
 */
import { AssertionError } from 'node:assert/strict';
import type { OutputLine, ProcessOutput } from '../../scripts/dev/processes.ts';
import { demoAccounts, demoCompanies } from '../../scripts/dev/simulator/accounts.ts';

/** Every identifying value of the simulator's people and companies, in the forms a log could show. */
export const personalValues: readonly string[] = [...new Set([
  ...demoAccounts.flatMap((account) => [
    account.name,
    account.certNo,
    ...(account.phone ? [account.phone, account.phone.replace(/^\+86/, '')] : []),
  ]),
  ...Object.values(demoCompanies).map((company) => company.creditCode),
])];

/** The plain lines a broker process writes at start-up (scripts/cli/broker.ts, banner.ts); no other. */
const startupText = [
  /^broker: (config \S+|no config file) \(.*\); store .*, namespace \S+$/,
  /^!{78}$/,
  /^!! {2}\S/,
  /^tongban broker listening on http:\/\/\S+ \(issuer \S+\)$/,
  // oidc-provider's own warning on Node 20 (console.warn at import; issue 14 item 7 is about it).
  /^oidc-provider WARNING: Unsupported runtime\. Use Node\.js v\d+\.x LTS, or a later LTS release\.$/,
];

const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** Keys whose values are credentials in JSON (answers, configuration). */
const secretKeys = new Set([
  'access_token', 'id_token', 'refresh_token', 'logout_token', 'client_secret', 'registration_access_token',
  'device_code', 'password', 'servicePassword', 'clientSecret',
]);

/** URL parameters that carry credentials (authorization codes, legacy tickets, implicit tokens). */
const secretParams = new Set(['code', 'ticket', 'st', 'access_token', 'id_token', 'logout_token']);

/** Shorter values are too common to look for (they would match unrelated text). */
const shortest = 8;

export interface LogCheck {
  readonly processes: number;
  /** Lines looked at, of every stream. */
  readonly lines: number;
  readonly jsonLines: number;
  /** Plain start-up lines of servers (allowed) and lines of commands (their stderr, checked for values). */
  readonly textLines: number;
  /** Command answers on stdout (a registered app's secret is the answer): counted, not searched. */
  readonly answerLines: number;
  /** Personal values and secrets looked for in every line. */
  readonly values: number;
}

function mask(value: string): string {
  return personalValues.includes(value) ? value : `${value.slice(0, 4)}… (${value.length} chars)`;
}

/**
 * Asserts the rules above over the output of processes (and over in-process log lines, given as
 * one server output); returns what was checked. Fails listing up to 10 offending lines.
 */
export function checkProcessLogs(outputs: readonly ProcessOutput[], secrets: Iterable<string> = []): LogCheck {
  const values = [...new Set([...personalValues, ...[...secrets].filter((s) => s.length >= shortest)])];
  const problems: string[] = [];
  let lines = 0;
  let jsonLines = 0;
  let textLines = 0;
  let answerLines = 0;
  for (const output of outputs) {
    const where = `${output.name} (pid ${output.pid ?? '?'})`;
    if (output.dropped > 0) problems.push(`${where}: ${output.dropped} lines were dropped unchecked`);
    let logLines = 0;
    for (const line of output.lines) {
      lines += 1;
      if (output.kind === 'command' && line.stream === 'stdout') {
        answerLines += 1;
        continue;
      }
      const found = values.find((value) => line.text.includes(value) || (line.json && JSON.stringify(line.json).includes(value)));
      if (found) problems.push(`${where} ${line.stream}: carries ${mask(found)}: ${excerpt(line, found)}`);
      if (line.json) {
        jsonLines += 1;
        if (output.kind === 'server') {
          logLines += 1;
          if (!levels.has(String(line.json.level))) problems.push(`${where} ${line.stream}: a JSON line without a level: ${line.text.slice(0, 160)}`);
        }
      } else {
        textLines += 1;
        if (output.kind === 'server' && !startupText.some((pattern) => pattern.test(line.text))) {
          problems.push(`${where} ${line.stream}: not a JSON log line: ${line.text.slice(0, 160)}`);
        }
      }
    }
    if (output.kind === 'server' && logLines === 0) problems.push(`${where}: no JSON log line at all (is the output captured?)`);
  }
  if (problems.length > 0) {
    throw new AssertionError({
      message: `${problems.length} problem(s) in the logs of ${outputs.length} process(es):\n  ${problems.slice(0, 10).join('\n  ')}`,
    });
  }
  return { processes: outputs.length, lines, jsonLines, textLines, answerLines, values: values.length };
}

function excerpt(line: OutputLine, value: string): string {
  const at = line.text.indexOf(value);
  const text = at < 0 ? line.text : line.text.slice(Math.max(0, at - 60), at) + '<…>' + line.text.slice(at + value.length, at + value.length + 60);
  return text.slice(0, 200);
}

/** In-process log lines (a memory logger's `lines`) as the output of one server. */
export function linesAsOutput(name: string, lines: ReadonlyArray<Record<string, unknown>>): ProcessOutput {
  return { name, kind: 'server', pid: process.pid, dropped: 0, ended: Promise.resolve(), lines: lines.map((json) => ({ stream: 'stderr', text: JSON.stringify(json), json })) };
}

/** One line for the test report: what the check covered. */
export function describeCheck(check: LogCheck): string {
  return `logs checked: ${check.processes} process(es), ${check.lines} lines (${check.jsonLines} JSON, ${check.textLines} text, ${check.answerLines} command answers), ${check.values} personal values and secrets`;
}

/** Collects the credentials in a value: under secret keys of JSON, in URL parameters. */
export function harvestSecrets(value: unknown, into: Set<string>, key?: string): void {
  if (typeof value === 'string') {
    if (key && secretKeys.has(key)) into.add(value);
    if (/^https?:\/\//.test(value)) {
      try {
        const url = new URL(value);
        for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
          for (const [name, param] of params) if (secretParams.has(name)) into.add(param);
        }
      } catch {
        // not a URL after all
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) harvestSecrets(item, into);
  } else if (value && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) harvestSecrets(item, into, name);
  }
}

/**
 * Watches what the test process receives through `fetch` (the test's browser, openid-client, plain
 * calls): tokens and codes in JSON answers and redirects, session cookies. `close` restores fetch.
 */
export function collectReceivedSecrets(into: Set<string> = new Set()): { readonly secrets: Set<string>; close(): void } {
  const original = globalThis.fetch;
  const watching: typeof fetch = async (input, init) => {
    const response = await original(input, init);
    try {
      harvestSecrets(response.headers.get('location') ?? undefined, into);
      for (const cookie of response.headers.getSetCookie()) {
        const [, name, value] = /^([^=]+)=([^;]*)/.exec(cookie) ?? [];
        // The interaction and resume cookies (`tongban_interaction`, `tongban_resume`) hold the
        // interaction's uid, which its URLs and log lines name too: an id, not a credential.
        if (name && value && !/(^|_)(interaction|resume)$/.test(name)) into.add(value);
      }
      if ((response.headers.get('content-type') ?? '').includes('json')) {
        const text = await response.clone().text();
        harvestSecrets(JSON.parse(text) as unknown, into);
      }
    } catch {
      // not JSON after all: nothing to collect
    }
    return response;
  };
  globalThis.fetch = watching;
  return {
    secrets: into,
    close: () => {
      if (globalThis.fetch === watching) globalThis.fetch = original;
    },
  };
}

/** The secrets of a broker configuration: client secrets, the national client's, legacy passwords. */
export function configuredSecrets(config: Record<string, unknown>): string[] {
  const found = new Set<string>();
  harvestSecrets(config, found);
  return [...found];
}
