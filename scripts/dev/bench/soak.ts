/**
 * `npm run soak -- --minutes 10 --rate 20`: holds a steady rate of complete brokered logins against
 * one broker process (Redis store, national simulator, load generator: each its own process) and
 * reports the broker's memory and the error count over time. Before each sample the broker runs a
 * full GC (it is started with --expose-gc), so the heap figure is what is really retained.
 * Ends with a verdict on growth, and writes the samples to .bench/soak.json.
 *
 * Options: --minutes (10), --rate logins per second (20), --every seconds between samples (30).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from '../processes.ts';
import type { Progress } from './protocol.ts';
import { redisSize, startBenchServers, startLoadGenerator } from './setup.ts';

interface Sample {
  readonly minute: number;
  readonly logins: number;
  readonly errors: number;
  readonly skipped: number;
  readonly heapUsedMb: number;
  readonly rssMb: number;
  readonly externalMb: number;
  readonly redisKeys: number;
  readonly redisMb: number;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { minutes: { type: 'string' }, rate: { type: 'string' }, every: { type: 'string' } },
  });
  const minutes = Number(values.minutes ?? 10);
  const rate = Number(values.rate ?? 20);
  const every = Number(values.every ?? 30);
  if (!(minutes > 0) || !(rate > 0) || !(every > 0)) throw new Error('--minutes, --rate and --every must be positive numbers');

  const servers = await startBenchServers({ contenders: ['broker'], nodeArgs: { broker: ['--expose-gc'] } });
  const load = await startLoadGenerator();
  const broker = servers.servers.get('broker')!;
  const samples: Sample[] = [];
  const started = Date.now();
  let logins = 0;
  let errors = 0;
  let skipped = 0;
  const errorSamples = new Set<string>();
  const sample = async (progress?: Progress) => {
    logins += progress?.count ?? 0;
    errors += progress?.errors ?? 0;
    skipped += progress?.skipped ?? 0;
    for (const message of progress?.errorSamples ?? []) errorSamples.add(message);
    const [usage, redis] = await Promise.all([broker.usage(), redisSize(servers.redis.url)]);
    const row: Sample = {
      minute: Math.round(((Date.now() - started) / 60_000) * 100) / 100,
      logins,
      errors,
      skipped,
      heapUsedMb: mb(usage.memory.heapUsed),
      rssMb: mb(usage.memory.rss),
      externalMb: mb(usage.memory.external),
      redisKeys: redis.keys,
      redisMb: mb(redis.usedMemory),
    };
    samples.push(row);
    process.stdout.write(`${row.minute.toFixed(2).padStart(6)} min  ${String(row.logins).padStart(7)} logins  ${String(row.errors).padStart(4)} errors  ${String(row.skipped).padStart(4)} late  heap ${row.heapUsedMb.toFixed(1).padStart(6)} MB  rss ${row.rssMb.toFixed(1).padStart(6)} MB  redis ${row.redisKeys} keys ${row.redisMb.toFixed(1)} MB\n`);
  };

  process.stdout.write(`soak: ${rate} logins/s for ${minutes} min, a sample every ${every} s (heap after a full GC)\n`);
  let pending = Promise.resolve();
  try {
    await sample();
    const result = await load.run(
      { kind: 'login', target: servers.targets.get('broker')!, concurrency: 64, durationMs: minutes * 60_000, rate, reportEveryMs: every * 1000 },
      (progress) => {
        pending = pending.then(() => sample(progress));
      },
    );
    await pending;
    // The tail after the last progress message.
    await sample({ type: 'progress', at: Date.now(), count: result.count - logins, errors: result.errors - errors, errorSamples: result.errorSamples, skipped: 0 });
  } finally {
    await load.stop();
    await servers.stop();
  }

  // Growth is judged after the first fifth (JIT, pools and caches filling), against logins done.
  const settled = samples.slice(Math.max(1, Math.floor(samples.length / 5)));
  const perLogin = slope(settled.map((s) => [s.logins, s.heapUsedMb * 1048576]));
  const first = settled[0]!;
  const last = settled.at(-1)!;
  const flat = perLogin < 64 && last.heapUsedMb - first.heapUsedMb < Math.max(4, first.heapUsedMb * 0.05);
  const verdict = [
    `heap ${first.heapUsedMb} MB → ${last.heapUsedMb} MB over ${last.logins - first.logins} logins (trend ${perLogin.toFixed(1)} bytes per login); rss ${first.rssMb} → ${last.rssMb} MB`,
    `${last.errors} errors${errorSamples.size ? ` (${[...errorSamples].join('; ')})` : ''}, ${last.skipped} logins started late (rate not kept)`,
    `verdict: ${flat ? 'memory flat' : 'MEMORY GROWS'}, ${last.errors === 0 ? 'no errors' : 'ERRORS'}`,
  ];
  process.stdout.write(`\n${verdict.join('\n')}\n`);
  const dir = join(repositoryRoot, '.bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify({ date: new Date().toISOString(), minutes, rate, samples, bytesPerLoginTrend: perLogin, flat, errors: last.errors, verdict }, null, 2)}\n`);
  process.exitCode = flat && last.errors === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
