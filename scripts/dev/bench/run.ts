/**
 * `npm run bench`: how fast the broker is, against yardsticks measured in the same run on this
 * machine (see docs/scaling.md). Everything runs in its own process: a private redis-server (the
 * store of all three), the national simulator, the broker, a bare oidc-provider, a minimal relay
 * (a bare provider logging in at the national simulator with openid-client), and the load
 * generator. Prints one table, the wrong-secret flood phase (flood.ts: login p99 beside a flood of
 * wrong secrets), the multi-node phase (three broker nodes on one Redis behind a non-sticky
 * balancer against one node behind it), then every target of issue 17 with met / not met
 * (figures.ts), and writes it all to .bench/results.json.
 *
 * Options:
 *   --seconds <n>   length of each measured phase (default 10)
 *   --median-of <n> runs, each on fresh servers; every figure is the median of the runs (default 1)
 *   --only <list>   contenders to run, comma-separated (default broker,bare,relay)
 *   --no-multinode  skip the multi-node phase
 *   --multinode-only  only the multi-node phase (one node, then three, behind the balancer)
 *   --trace         Redis MONITOR and request counts over 20 single logins, refreshes, userinfo and
 *                   introspection calls per contender: what each asks of the store, command by
 *                   command (independent of machine load)
 *   --profile       profile the broker instead (node --cpu-prof) under concurrency-16 logins and
 *                   print where its CPU time goes; the profile is kept in .bench/profile/
 *   --profile-phase <kind>  with --profile: login (default), refresh, userinfo or introspection
 *   --sealing       only the sealing-cost micro-benchmark (sealing.ts), in this process
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../processes.ts';
import { type Contender, type ContenderFigures, fixed, median, multinodeReport, type MultinodeFigures, type RunFigures, type SoakSummary, table, targets } from './figures.ts';
import { floodReport, measureFlood } from './flood.ts';
import { measureSealing, sealingReport } from './sealing.ts';
import type { Job, JobKind, JobResult, UsageMessage } from './protocol.ts';
import { monitorRedis, redisCommands, redisFootprint, startBenchServers, startLoadGenerator, type BenchServers, type LoadGenerator, type RedisFootprint } from './setup.ts';

const outputDir = join(repositoryRoot, '.bench');

function cpuMs(before: NodeJS.CpuUsage, after: NodeJS.CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1000;
}

/** Requests served between two usage samples, per login, by shape. */
function requestsPer(before: UsageMessage, after: UsageMessage, logins: number): Record<string, number> {
  return Object.fromEntries(Object.entries(after.requests)
    .map(([shape, n]) => [shape, (n - (before.requests[shape] ?? 0)) / Math.max(1, logins)] as const)
    .filter(([, n]) => n > 0));
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
  const perLogin = new Map<Contender, { server: number; national: number; commands: number; requests: Record<string, number>; nationalRequests: Record<string, number> }>();
  for (const c of contenders) {
    const server = servers.servers.get(c)!;
    const [before, nationalBefore, commandsBefore] = await Promise.all([server.usage(), national.usage(), redisCommands(servers.redis.url)]);
    const result = counted(c, await load.run(job(c, 'login', 16, seconds * 1000)));
    const [after, nationalAfter, commandsAfter] = await Promise.all([server.usage(), national.usage(), redisCommands(servers.redis.url)]);
    phases.get(c)!.push(result);
    const per = (value: number) => value / Math.max(1, result.count);
    perLogin.set(c, {
      server: per(cpuMs(before.cpu, after.cpu)),
      national: per(cpuMs(nationalBefore.cpu, nationalAfter.cpu)),
      commands: per(commandsAfter - commandsBefore),
      requests: requestsPer(before, after, result.count),
      nationalRequests: requestsPer(nationalBefore, nationalAfter, result.count),
    });
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
    const counts = perLogin.get(c)!;
    const figures: ContenderFigures = {
      phases: phases.get(c)!,
      cpuMsPerLogin: counts.server,
      redisCommandsPerLogin: counts.commands,
      requestsPerLogin: counts.requests,
      ...(c === 'bare' ? {} : { nationalCpuMsPerLogin: counts.national, nationalRequestsPerLogin: counts.nationalRequests }),
      logins: logins.get(c)!,
      redis: footprint,
      bytesPerSession: footprint.bytes / total,
      retainedBytesPerSession: footprint.retainedBytes / total,
    };
    return [c, figures];
  }));
}

/**
 * Three broker nodes on one Redis behind a round-robin balancer without stickiness, against the
 * first of them alone behind the same balancer: node-local caches must not cost the shared store.
 */
async function measureMultinode(load: LoadGenerator, seconds: number): Promise<MultinodeFigures> {
  const servers = await startBenchServers({ contenders: [], clusterNodes: 3 });
  try {
    const { balancer, nodes } = servers.cluster!;
    const all = nodes.map((node) => node.url);
    const target = servers.targets.get('cluster')!;
    const run = (durationMs: number) => load.run({ kind: 'login', target, concurrency: 16, durationMs });
    /** A measured phase, with the CPU every broker node spent on it per login (all nodes summed). */
    const measured = async (): Promise<[JobResult, number, number]> => {
      const [before, commandsBefore] = await Promise.all([Promise.all(nodes.map((node) => node.usage())), redisCommands(servers.redis.url)]);
      const result = await run(seconds * 1000);
      const [after, commandsAfter] = await Promise.all([Promise.all(nodes.map((node) => node.usage())), redisCommands(servers.redis.url)]);
      const spent = after.reduce((total, usage, i) => total + cpuMs(before[i]!.cpu, usage.cpu), 0);
      const logins = Math.max(1, result.count);
      return [result, spent / logins, (commandsAfter - commandsBefore) / logins];
    };
    // Warm-up: every node, round robin, 6 s, so that each node has run about as many logins as the
    // single node then runs alone before it is measured (their JIT tiers and pools warmed alike).
    await run(6000);
    balancer.nodes = all.slice(0, 1);
    await run(2000);
    const [one, oneCpuMsPerLogin, oneCommandsPerLogin] = await measured();
    balancer.nodes = all;
    const [three, threeCpuMsPerLogin, threeCommandsPerLogin] = await measured();
    return { one, three, ratio: three.perSecond / Math.max(1e-9, one.perSecond), oneCpuMsPerLogin, threeCpuMsPerLogin, oneCommandsPerLogin, threeCommandsPerLogin };
  } finally {
    await servers.stop();
  }
}

async function measureRun(contenders: Contender[], seconds: number, multinode: boolean): Promise<RunFigures> {
  const load = await startLoadGenerator();
  try {
    const servers = await startBenchServers({ contenders });
    let figures: RunFigures;
    try {
      const results = await measureAll(servers, load, contenders, seconds);
      const flood = contenders.includes('broker') ? await measureFlood(servers, load, seconds) : undefined;
      figures = { results, ...(flood ? { flood } : {}) };
    } finally {
      await servers.stop();
    }
    return multinode ? { ...figures, multinode: await measureMultinode(load, seconds) } : figures;
  } finally {
    await load.stop();
  }
}

/** What one login asks of the store and of the servers, by command and key shape: counts, not times. */
async function traceLogins(contenders: Contender[]): Promise<void> {
  const load = await startLoadGenerator();
  const servers = await startBenchServers({ contenders });
  const operations = 20;
  try {
    for (const c of contenders) {
      const target = servers.targets.get(c)!;
      await load.run({ kind: 'login', target, concurrency: 1, durationMs: 1500 });
      const server = servers.servers.get(c)!;
      const national = servers.servers.get('national')!;
      for (const kind of ['login', 'refresh', 'userinfo', 'introspection'] as const) {
        if (kind !== 'login') await load.run({ kind, target, concurrency: 1, durationMs: 300 });
        const monitor = await monitorRedis(servers.redis.url, server.namespace!);
        const [before, nationalBefore] = await Promise.all([server.usage(), national.usage()]);
        let done = 0;
        while (done < operations) done += (await load.run({ kind, target, concurrency: 1, durationMs: 1 })).count;
        const [after, nationalAfter] = await Promise.all([server.usage(), national.usage()]);
        const { commands, sent, roundTrips } = await monitor.stop();
        const total = Object.values(commands).reduce((a, b) => a + b, 0);
        const lines = (values: Record<string, number>) => Object.entries(values).sort((a, b) => b[1] - a[1]).map(([shape, n]) => `    ${fixed(n / done, 2).padStart(6)}  ${shape}`);
        const nationalRequests = requestsPer(nationalBefore, nationalAfter, 1);
        /** Milliseconds per operation by request shape: where one operation's time goes, hop by hop. */
        const timePer = (from: UsageMessage, to: UsageMessage) => Object.entries(to.requestMs)
          .map(([shape, ms]) => [shape, (ms - (from.requestMs[shape] ?? 0)) / done] as const)
          .filter(([, ms]) => ms > 0.005)
          .map(([shape, ms]) => `    ${fixed(ms, 2).padStart(6)}  ${shape}`);
        process.stdout.write([
          `${c}: ${done} ${kind}, ${fixed(total / done, 1)} store commands per ${kind} (scripts' own included), ${fixed(sent / done, 1)} sent, ${fixed(roundTrips / done, 1)} round trips (reads at Redis)`,
          ...lines(commands),
          `  requests served per ${kind}:`,
          ...lines(requestsPer(before, after, 1)),
          ...(c === 'bare' || Object.keys(nationalRequests).length === 0 ? [] : [`  national requests per ${kind}:`, ...lines(nationalRequests)]),
          `  ms served per ${kind} (request start to response end, one at a time):`,
          ...timePer(before, after),
          ...(c === 'bare' || Object.keys(nationalRequests).length === 0 ? [] : [`  ms the national platform served per ${kind}:`, ...timePer(nationalBefore, nationalAfter)]),
          '',
        ].join('\n'));
      }
    }
  } finally {
    await servers.stop();
    await load.stop();
  }
}

function readSoak(): SoakSummary | undefined {
  const path = join(outputDir, 'soak.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SoakSummary;
  } catch {
    return undefined;
  }
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
    options: {
      seconds: { type: 'string' }, only: { type: 'string' }, profile: { type: 'boolean' }, 'profile-phase': { type: 'string' },
      'median-of': { type: 'string' }, 'no-multinode': { type: 'boolean' }, trace: { type: 'boolean' }, sealing: { type: 'boolean' },
      'multinode-only': { type: 'boolean' },
    },
  });
  if (values.sealing) {
    process.stdout.write(`${sealingReport(measureSealing())}\n`);
    return;
  }
  const seconds = Number(values.seconds ?? 10);
  const runs = Math.max(1, Number(values['median-of'] ?? 1));
  mkdirSync(outputDir, { recursive: true });
  if (values.profile) {
    await profileBroker(seconds, (values['profile-phase'] ?? 'login') as JobKind);
    return;
  }
  if (values['multinode-only']) {
    const load = await startLoadGenerator();
    try {
      process.stdout.write(`${multinodeReport(await measureMultinode(load, seconds))}\n`);
    } finally {
      await load.stop();
    }
    return;
  }
  const contenders = (values.only?.split(',') ?? ['broker', 'bare', 'relay']) as Contender[];
  if (values.trace) {
    await traceLogins(contenders);
    return;
  }
  const multinode = !values['no-multinode'] && contenders.includes('broker');
  process.stderr.write(`bench: ${contenders.join(', ')}${multinode ? ', 3 nodes' : ''}; ${seconds} s per phase; ${runs} run(s); ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`);
  const all: RunFigures[] = [];
  for (let n = 0; n < runs; n += 1) {
    all.push(await measureRun(contenders, seconds, multinode));
    if (runs > 1) process.stderr.write(`bench: run ${n + 1} of ${runs} done\n`);
  }
  const figures = median(all);
  const checks = targets(figures, readSoak());
  const sealing = measureSealing();
  const text = `${table(figures.results)}\n\n${sealingReport(sealing, figures.results.broker?.cpuMsPerLogin)}${figures.flood ? `\n\n${floodReport(figures.flood)}` : ''}${figures.multinode ? `\n\n${multinodeReport(figures.multinode)}` : ''}\n\ntargets${runs > 1 ? ` (medians of ${runs} runs)` : ''}:\n${checks.map((c) => `  ${c.met ? 'met    ' : 'NOT MET'}  ${c.target}: ${c.measured}`).join('\n')}\n`;
  process.stdout.write(`\n${text}`);
  writeFileSync(join(outputDir, 'results.json'), `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage: loadavg() },
    secondsPerPhase: seconds,
    runs,
    ...figures,
    sealing,
    targets: checks,
    table: text,
    ...(runs > 1 ? { eachRun: all } : {}),
  }, null, 2)}\n`);
  process.stdout.write('written to .bench/results.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
