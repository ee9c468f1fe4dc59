/**
 * The figures of `npm run bench` and what they are held to: the table, the targets of issue 17
 * with met / not met, the per-login counts (store commands, HTTP hops, national calls), and the
 * median of several runs (rates move by ±15 % between runs on a shared 2-core machine).
 */
import type { FloodResult } from './flood.ts';
import type { JobKind, JobResult } from './protocol.ts';
import type { RedisFootprint } from './setup.ts';

export type Contender = 'broker' | 'bare' | 'relay';

export interface ContenderFigures {
  readonly phases: JobResult[];
  /** Server CPU milliseconds per login in the concurrency-16 phase (the contender's own process). */
  readonly cpuMsPerLogin: number;
  /** Redis commands per login in that phase. */
  readonly redisCommandsPerLogin: number;
  /** The national simulator's CPU per login of that phase (broker and relay only). */
  readonly nationalCpuMsPerLogin?: number;
  /** Requests the contender served per login, by `METHOD /path` shape. */
  readonly requestsPerLogin: Record<string, number>;
  /** Requests the national simulator served per login, by shape (broker and relay only). */
  readonly nationalRequestsPerLogin?: Record<string, number>;
  readonly logins: number;
  readonly redis: RedisFootprint;
  readonly bytesPerSession: number;
  readonly retainedBytesPerSession: number;
}

/** Logins/s at concurrency 16 of the same broker configuration on one node and on three, behind one balancer. */
export interface MultinodeFigures {
  readonly one: JobResult;
  readonly three: JobResult;
  readonly ratio: number;
  /** Broker CPU per login, summed over every node: equal figures mean three nodes do no extra work. */
  readonly oneCpuMsPerLogin: number;
  readonly threeCpuMsPerLogin: number;
  readonly oneCommandsPerLogin: number;
  readonly threeCommandsPerLogin: number;
}

export interface SoakSummary {
  readonly date: string;
  readonly minutes: number;
  readonly flat: boolean;
  readonly errors: number;
  readonly verdict: string[];
}

export interface RunFigures {
  readonly results: Partial<Record<Contender, ContenderFigures>>;
  readonly flood?: FloodResult;
  readonly multinode?: MultinodeFigures;
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Calls the national platform answers a server, not a browser: what a login makes it do behind the scenes. */
const backChannel = /^(POST \/token|GET \/me|POST \/me|GET \/jwks|GET \/\.well-known\/openid-configuration)/;

const sum = (values: Record<string, number> | undefined, keep: (shape: string) => boolean = () => true) =>
  Object.entries(values ?? {}).filter(([shape]) => keep(shape)).reduce((total, [, n]) => total + n, 0);

/** HTTP requests per login: at the contender, at the national platform from the browser, and from the contender. */
export function hops(f: ContenderFigures): { served: number; nationalBrowser: number; nationalCalls: number } {
  return {
    served: sum(f.requestsPerLogin),
    nationalBrowser: sum(f.nationalRequestsPerLogin, (shape) => !backChannel.test(shape)),
    nationalCalls: sum(f.nationalRequestsPerLogin, (shape) => backChannel.test(shape)),
  };
}

export const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

export function phase(figures: ContenderFigures | undefined, kind: JobKind, concurrency = 16): JobResult | undefined {
  return figures?.phases.find((p) => p.kind === kind && p.concurrency === concurrency);
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of same-shaped results, number by number (arrays element by element, objects key by key). */
export function median<T>(runs: readonly T[]): T {
  const first = runs[0];
  if (runs.length === 1) return first as T;
  if (typeof first === 'number') return medianOf(runs as unknown as number[]) as T;
  if (Array.isArray(first)) return first.map((_, i) => median(runs.map((run) => (run as unknown[])[i]))) as T;
  if (first && typeof first === 'object') {
    const keys = new Set(runs.flatMap((run) => Object.keys((run ?? {}) as object)));
    return Object.fromEntries([...keys].map((key) => [key, median(runs.map((run) => (run as Record<string, unknown>)?.[key] ?? 0))])) as T;
  }
  return first as T;
}

interface Row {
  readonly label: string;
  readonly values: Partial<Record<Contender, number>>;
  readonly digits?: number;
  /** Show broker/bare and broker/relay ratios. */
  readonly ratios?: boolean;
  readonly extra?: Partial<Record<Contender, string>>;
}

function rows(results: Partial<Record<Contender, ContenderFigures>>): Row[] {
  const of = (fn: (f: ContenderFigures) => number | undefined) =>
    Object.fromEntries(Object.entries(results).map(([name, f]) => [name, fn(f)])) as Partial<Record<Contender, number>>;
  const latency = (kind: JobKind, concurrency: number) =>
    Object.fromEntries(Object.entries(results).map(([name, f]) => {
      const p = phase(f, kind, concurrency);
      return [name, p ? `p50 ${fixed(p.p50Ms, 1)} / p99 ${fixed(p.p99Ms, 1)} ms, ${p.errors} err` : '–'];
    })) as Partial<Record<Contender, string>>;
  return [
    { label: 'logins/s, concurrency 1', values: of((f) => phase(f, 'login', 1)?.perSecond), digits: 1, ratios: true, extra: latency('login', 1) },
    { label: 'logins/s, concurrency 16', values: of((f) => phase(f, 'login')?.perSecond), digits: 1, ratios: true, extra: latency('login', 16) },
    { label: 'refresh grants/s (c16)', values: of((f) => phase(f, 'refresh')?.perSecond), ratios: true, extra: latency('refresh', 16) },
    { label: 'userinfo/s (c16)', values: of((f) => phase(f, 'userinfo')?.perSecond), ratios: true, extra: latency('userinfo', 16) },
    { label: 'introspection/s (c16)', values: of((f) => phase(f, 'introspection')?.perSecond), ratios: true, extra: latency('introspection', 16) },
    { label: 'server CPU ms per login', values: of((f) => f.cpuMsPerLogin), digits: 2, ratios: true },
    { label: 'national CPU ms per login', values: of((f) => f.nationalCpuMsPerLogin), digits: 2 },
    { label: 'Redis commands per login', values: of((f) => f.redisCommandsPerLogin), digits: 1, ratios: true },
    { label: 'HTTP requests served per login', values: of((f) => hops(f).served), digits: 1, ratios: true },
    { label: 'national pages per login (browser)', values: of((f) => (f.nationalRequestsPerLogin ? hops(f).nationalBrowser : undefined)), digits: 1 },
    { label: 'national calls per login (server)', values: of((f) => (f.nationalRequestsPerLogin ? hops(f).nationalCalls : undefined)), digits: 1 },
    { label: 'Redis bytes per session', values: of((f) => f.bytesPerSession), ratios: true },
    { label: '  of which kept for the session', values: of((f) => f.retainedBytesPerSession), ratios: true },
  ];
}

export function table(results: Partial<Record<Contender, ContenderFigures>>): string {
  const lines: string[] = [];
  const head = ['', 'broker', 'bare', 'relay', 'broker/bare', 'broker/relay'];
  const body = rows(results).map((row) => {
    const v = row.values;
    const ratio = (a?: number, b?: number) => (row.ratios && a !== undefined && b ? `${(a / b).toFixed(2)}×` : '');
    return [row.label, fixed(v.broker, row.digits), fixed(v.bare, row.digits), fixed(v.relay, row.digits), ratio(v.broker, v.bare), ratio(v.broker, v.relay)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(format(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format));
  lines.push('', 'latency and errors:');
  for (const row of rows(results).filter((r) => r.extra)) {
    lines.push(`  ${row.label}`);
    for (const [name, text] of Object.entries(row.extra!)) lines.push(`    ${name.padEnd(6)} ${text}`);
  }
  const broker = results.broker;
  if (broker) {
    const shapes = (values: Record<string, number> | undefined) => Object.entries(values ?? {}).filter(([, n]) => n >= 0.05).map(([shape, n]) => `${shape} ×${fixed(n, 2)}`).join(', ');
    lines.push('', 'requests per login (broker, c16):', `  broker    ${shapes(broker.requestsPerLogin)}`, `  national  ${shapes(broker.nationalRequestsPerLogin)}`);
  }
  return lines.join('\n');
}

/** The multi-node phase in one line: rates, p99 and, over all nodes, CPU and store commands per login. */
export function multinodeReport(m: MultinodeFigures): string {
  return `multi-node (c16 logins/s): one node ${fixed(m.one.perSecond, 1)}, three nodes ${fixed(m.three.perSecond, 1)} (${fixed(m.ratio, 2)}×), ${m.one.errors + m.three.errors} errors; `
    + `p99 ${fixed(m.one.p99Ms, 1)} / ${fixed(m.three.p99Ms, 1)} ms; per login over all nodes: broker CPU ${fixed(m.oneCpuMsPerLogin, 2)} / ${fixed(m.threeCpuMsPerLogin, 2)} ms, `
    + `store commands ${fixed(m.oneCommandsPerLogin, 1)} / ${fixed(m.threeCommandsPerLogin, 1)}`;
}

/** The targets of issue 17, each with what was measured and whether it is met. */
export function targets(run: RunFigures, soak?: SoakSummary): TargetCheck[] {
  const { broker, bare, relay } = run.results;
  if (!broker) return [];
  const checks: TargetCheck[] = [];
  const check = (target: string, measured: string, met: boolean) => checks.push({ target, measured, met });
  const ratio = (a: number, b: number) => `${fixed(a, 2)} vs ${fixed(b, 2)} (${fixed(a / b, 2)}×)`;
  const c16 = phase(broker, 'login')!;
  const c1 = phase(broker, 'login', 1)!;
  if (relay) {
    const [chain, chain1] = [phase(relay, 'login')!, phase(relay, 'login', 1)!];
    check('logins/s at c16 ≥ 1.0 × the chained relay', ratio(c16.perSecond, chain.perSecond), c16.perSecond >= chain.perSecond);
    check('login p50 at c1 ≤ the relay\'s', `${fixed(c1.p50Ms, 1)} vs ${fixed(chain1.p50Ms, 1)} ms`, c1.p50Ms <= chain1.p50Ms);
    check('broker CPU per login ≤ 1.0 × the relay broker\'s', `${ratio(broker.cpuMsPerLogin, relay.cpuMsPerLogin)} ms`, broker.cpuMsPerLogin <= relay.cpuMsPerLogin);
    const [national, upstream] = [broker.nationalCpuMsPerLogin ?? NaN, relay.nationalCpuMsPerLogin ?? NaN];
    check('national CPU per login ≤ 1.0 × the relay upstream\'s', `${ratio(national, upstream)} ms`, national <= upstream);
    const [calls, relayCalls] = [hops(broker).nationalCalls, hops(relay).nationalCalls];
    check('no national call a login does not need (calls ≤ the relay\'s)', `${fixed(calls, 2)} vs ${fixed(relayCalls, 2)} per login`, calls <= relayCalls + 0.05);
  }
  check('login p99 at c16 ≤ 120 ms', `${fixed(c16.p99Ms, 1)} ms`, c16.p99Ms <= 120);
  const errors = broker.phases.reduce((total, p) => total + p.errors, 0);
  check('no errors', `${errors}`, errors === 0);
  if (bare) {
    for (const kind of ['refresh', 'userinfo', 'introspection'] as const) {
      const [b, y] = [phase(broker, kind)!.perSecond, phase(bare, kind)!.perSecond];
      check(`${kind}/s ≥ 0.95 × the bare provider`, `${fixed(b)} vs ${fixed(y)} (${fixed(b / y, 2)}×)`, b >= 0.95 * y);
    }
  }
  check('≤ 40 store commands per login', fixed(broker.redisCommandsPerLogin, 1), broker.redisCommandsPerLogin <= 40);
  check('≤ 3 KB of Redis per signed-in session', `${fixed(broker.bytesPerSession)} B (${fixed(broker.retainedBytesPerSession)} B kept for the session)`, broker.bytesPerSession <= 3072);
  if (run.flood) {
    const { flood } = run;
    check('login p99 beside a wrong-secret flood ≤ 2 × alone', `${fixed(flood.beside.p99Ms, 1)} vs ${fixed(flood.alone.p99Ms, 1)} ms (${fixed(flood.ratio, 2)}×)`, flood.ratio <= 2);
  }
  if (run.multinode) {
    const { one, three, ratio: r } = run.multinode;
    check('logins/s on 3 nodes behind a non-sticky balancer ≥ 0.9 × one node', `${fixed(three.perSecond, 1)} vs ${fixed(one.perSecond, 1)} (${fixed(r, 2)}×), ${three.errors + one.errors} errors`, r >= 0.9 && three.errors + one.errors === 0);
  }
  if (soak) check(`flat heap over a ${soak.minutes}-minute soak, no errors (npm run soak, ${soak.date.slice(0, 16)})`, soak.verdict.at(-1) ?? '', soak.flat && soak.errors === 0);
  else check('flat heap over a 10-minute soak, no errors', 'not run: npm run soak', false);
  return checks;
}
