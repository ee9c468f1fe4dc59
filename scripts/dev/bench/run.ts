/**
 * `npm run bench`: how fast the broker is, against yardsticks measured in the same run on this
 * machine (see docs/scaling.md). Everything runs in its own process: a private redis-server (the
 * store of all three), the national simulator, the broker, a bare oidc-provider, a minimal relay
 * (a bare provider logging in at the national simulator with openid-client), and the load
 * generator. Prints one table, then the wrong-secret flood phase (flood.ts: login p99 beside a
 * flood of wrong secrets, and the ratio), and writes it all to .bench/results.json.
 *
 * Options:
 *   --seconds <n>   length of each measured phase (default 10)
 *   --only <list>   contenders to run, comma-separated (default broker,bare,relay)
 *   --profile       profile the broker instead (node --cpu-prof) under concurrency-16 logins and
 *                   print where its CPU time goes; the profile is kept in .bench/profile/
 *   --profile-phase <kind>  with --profile: login (default), refresh, userinfo or introspection
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../processes.ts';
import { floodReport, measureFlood, type FloodResult } from './flood.ts';
import type { Job, JobKind, JobResult } from './protocol.ts';
import { redisCommands, redisFootprint, startBenchServers, startLoadGenerator, type BenchServers, type LoadGenerator, type RedisFootprint, type ServerName } from './setup.ts';

type Contender = 'broker' | 'bare' | 'relay';

interface ContenderFigures {
  readonly phases: JobResult[];
  /** Server CPU milliseconds per login in the concurrency-16 phase (the contender's own process). */
  readonly cpuMsPerLogin: number;
  /** Redis commands per login in that phase. */
  readonly redisCommandsPerLogin: number;
  /** The national simulator's CPU per login of that phase (broker and relay only). */
  readonly nationalCpuMsPerLogin?: number;
  readonly logins: number;
  readonly redis: RedisFootprint;
  readonly bytesPerSession: number;
  readonly retainedBytesPerSession: number;
}

const outputDir = join(repositoryRoot, '.bench');

function cpuMs(before: NodeJS.CpuUsage, after: NodeJS.CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1000;
}

/**
 * Runs every phase for each contender in turn before the next phase, so that a change in what
 * else the machine does shifts all contenders alike and the ratios stay fair.
 */
async function measureAll(servers: BenchServers, load: LoadGenerator, contenders: Contender[], seconds: number): Promise<Partial<Record<Contender, ContenderFigures>>> {
  const national = servers.servers.get('national')!;
  const job = (contender: Contender, kind: JobKind, concurrency: number, durationMs: number): Job =>
    ({ kind, target: servers.targets.get(contender)!, concurrency, durationMs });
  const phases = new Map<Contender, JobResult[]>(contenders.map((c) => [c, []]));
  const logins = new Map<Contender, number>(contenders.map((c) => [c, 0]));
  const counted = (contender: Contender, result: JobResult) => {
    logins.set(contender, logins.get(contender)! + result.count);
    return result;
  };
  // Warm-up (JIT, connection pools, discovery); its logins count for the memory figure only.
  for (const c of contenders) counted(c, await load.run(job(c, 'login', 16, 3000)));
  for (const c of contenders) phases.get(c)!.push(counted(c, await load.run(job(c, 'login', 1, seconds * 1000))));
  const cpu = new Map<Contender, { server: number; national: number; commands: number }>();
  for (const c of contenders) {
    const server = servers.servers.get(c)!;
    const [before, nationalBefore, commandsBefore] = await Promise.all([server.usage(), national.usage(), redisCommands(servers.redis.url)]);
    const result = counted(c, await load.run(job(c, 'login', 16, seconds * 1000)));
    const [after, nationalAfter, commandsAfter] = await Promise.all([server.usage(), national.usage(), redisCommands(servers.redis.url)]);
    phases.get(c)!.push(result);
    const per = (value: number) => value / Math.max(1, result.count);
    cpu.set(c, { server: per(cpuMs(before.cpu, after.cpu)), national: per(cpuMs(nationalBefore.cpu, nationalAfter.cpu)), commands: per(commandsAfter - commandsBefore) });
  }
  // Before the token phases add tokens of their own.
  const redis = new Map<Contender, RedisFootprint>();
  for (const c of contenders) redis.set(c, await redisFootprint(servers.redis.url, servers.servers.get(c)!.namespace!));
  for (const kind of ['refresh', 'userinfo', 'introspection'] as const) {
    for (const c of contenders) phases.get(c)!.push(await load.run(job(c, kind, 16, seconds * 1000)));
  }
  return Object.fromEntries(contenders.map((c) => {
    const footprint = redis.get(c)!;
    const total = Math.max(1, logins.get(c)!);
    const figures: ContenderFigures = {
      phases: phases.get(c)!,
      cpuMsPerLogin: cpu.get(c)!.server,
      redisCommandsPerLogin: cpu.get(c)!.commands,
      ...(c === 'bare' ? {} : { nationalCpuMsPerLogin: cpu.get(c)!.national }),
      logins: logins.get(c)!,
      redis: footprint,
      bytesPerSession: footprint.bytes / total,
      retainedBytesPerSession: footprint.retainedBytes / total,
    };
    return [c, figures];
  }));
}

const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

function phase(figures: ContenderFigures | undefined, kind: JobKind, concurrency = 16): JobResult | undefined {
  return figures?.phases.find((p) => p.kind === kind && p.concurrency === concurrency);
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
    { label: 'Redis bytes per session', values: of((f) => f.bytesPerSession), ratios: true },
    { label: '  of which kept for the session', values: of((f) => f.retainedBytesPerSession), ratios: true },
  ];
}

function table(results: Partial<Record<Contender, ContenderFigures>>): string {
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
  return lines.join('\n');
}

interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

function targets(results: Partial<Record<Contender, ContenderFigures>>): TargetCheck[] {
  const { broker, bare, relay } = results;
  if (!broker) return [];
  const checks: TargetCheck[] = [];
  const c16 = phase(broker, 'login')!;
  if (relay) {
    const chain = phase(relay, 'login')!;
    checks.push({ target: 'logins/s at c16 ≥ the chained pair', measured: `${fixed(c16.perSecond, 1)} vs ${fixed(chain.perSecond, 1)} (${fixed(c16.perSecond / chain.perSecond, 2)}×)`, met: c16.perSecond >= chain.perSecond });
  }
  checks.push({ target: 'p99 of a login at c16 ≤ 100 ms', measured: `${fixed(c16.p99Ms, 1)} ms`, met: c16.p99Ms <= 100 });
  const errors = broker.phases.reduce((sum, p) => sum + p.errors, 0);
  checks.push({ target: 'no errors', measured: `${errors}`, met: errors === 0 });
  if (bare) {
    checks.push({ target: 'CPU per login ≤ 1.5 × the bare provider', measured: `${fixed(broker.cpuMsPerLogin, 2)} vs ${fixed(bare.cpuMsPerLogin, 2)} ms (${fixed(broker.cpuMsPerLogin / bare.cpuMsPerLogin, 2)}×)`, met: broker.cpuMsPerLogin <= 1.5 * bare.cpuMsPerLogin });
    for (const kind of ['refresh', 'userinfo', 'introspection'] as const) {
      const [b, y] = [phase(broker, kind)!.perSecond, phase(bare, kind)!.perSecond];
      checks.push({ target: `${kind}/s ≥ 0.9 × the bare provider`, measured: `${fixed(b)} vs ${fixed(y)} (${fixed(b / y, 2)}×)`, met: b >= 0.9 * y });
    }
  }
  checks.push({ target: '≤ 3 KB of Redis per signed-in session', measured: `${fixed(broker.bytesPerSession)} B (${fixed(broker.retainedBytesPerSession)} B kept for the session)`, met: broker.bytesPerSession <= 3072 });
  return checks;
}

/** Self time per function of a .cpuprofile, heaviest first. */
function summariseProfile(path: string, top = 30): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    total += delta;
    const url = frame.url.replace(/^file:\/\//, '').replace(`${repositoryRoot}/`, '');
    const key = `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('node:') ? 'node (internal)' : url === '' ? frame.functionName || '(native)' : url.split('/')[0]!);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
  });
  const share = (value: number) => `${((100 * value) / total).toFixed(1).padStart(5)} %`;
  return [
    'self time by package:',
    ...[...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, value]) => `  ${share(value)}  ${name}`),
    'self time by function:',
    ...[...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, value]) => `  ${share(value)}  ${name}`),
  ];
}

async function profileBroker(seconds: number, kind: JobKind = 'login'): Promise<void> {
  const dir = join(outputDir, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const servers = await startBenchServers({ contenders: ['broker'], nodeArgs: { broker: ['--cpu-prof', `--cpu-prof-dir=${dir}`] } });
  const load = await startLoadGenerator();
  try {
    const target = servers.targets.get('broker')!;
    await load.run({ kind: 'login', target, concurrency: 16, durationMs: 3000 });
    const result = await load.run({ kind, target, concurrency: 16, durationMs: seconds * 1000 });
    process.stdout.write(`profiled: ${fixed(result.perSecond, 1)} ${kind}/s, p99 ${fixed(result.p99Ms, 1)} ms, ${result.errors} errors\n`);
  } finally {
    await load.stop();
    await servers.stop();
  }
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the broker wrote no profile');
  process.stdout.write(`${summariseProfile(join(dir, file)).join('\n')}\nprofile: ${join('.bench/profile', file)} (open in Chrome DevTools)\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { seconds: { type: 'string' }, only: { type: 'string' }, profile: { type: 'boolean' }, 'profile-phase': { type: 'string' } },
  });
  const seconds = Number(values.seconds ?? 10);
  mkdirSync(outputDir, { recursive: true });
  if (values.profile) {
    await profileBroker(seconds, (values['profile-phase'] ?? 'login') as JobKind);
    return;
  }
  const contenders = (values.only?.split(',') ?? ['broker', 'bare', 'relay']) as Contender[];
  process.stderr.write(`bench: ${contenders.join(', ')}; ${seconds} s per phase; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`);
  const servers = await startBenchServers({ contenders });
  const load = await startLoadGenerator();
  let results: Partial<Record<Contender, ContenderFigures>>;
  let flood: FloodResult | undefined;
  try {
    results = await measureAll(servers, load, contenders, seconds);
    if (contenders.includes('broker')) flood = await measureFlood(servers, load, seconds);
  } finally {
    await load.stop();
    await servers.stop();
  }
  const checks = targets(results);
  if (flood) {
    checks.push({ target: 'login p99 beside a wrong-secret flood ≤ 2 × alone', measured: `${flood.beside.p99Ms.toFixed(1)} vs ${flood.alone.p99Ms.toFixed(1)} ms (${flood.ratio.toFixed(2)}×)`, met: flood.ratio <= 2 });
  }
  const text = `${table(results)}${flood ? `\n\n${floodReport(flood)}` : ''}\n\ntargets:\n${checks.map((c) => `  ${c.met ? 'met    ' : 'NOT MET'}  ${c.target}: ${c.measured}`).join('\n')}\n`;
  process.stdout.write(`\n${text}`);
  const servedBy: Partial<Record<ServerName, string>> = Object.fromEntries([...servers.servers].map(([name, s]) => [name, s.url]));
  writeFileSync(join(outputDir, 'results.json'), `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    secondsPerPhase: seconds,
    servers: servedBy,
    results,
    ...(flood ? { flood } : {}),
    targets: checks,
    table: text,
  }, null, 2)}\n`);
  process.stdout.write('written to .bench/results.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
