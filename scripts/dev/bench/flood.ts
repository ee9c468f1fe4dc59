/**
 * The wrong-secret flood phase of `npm run bench` (issue 12, item 2): ordinary logins at
 * concurrency 16, first alone and then beside 16 virtual attackers sending wrong client secrets
 * for a registered app as fast as they are answered. A wrong secret must be cheap to refuse, so
 * the logins' p99 beside the flood should stay within 2× of their p99 alone.
 *
 * The flooded app is registered with the cities CLI, as an operator would, so its secret is stored
 * the way every app's is. The bench broker's rate limits are on but raised far above the flood
 * (setup.ts): this phase measures what a wrong secret costs, its counting included, not how soon
 * the limits refuse it (with the defaults they would after 10).
 */
import { createStore } from '../../../broker/platform/storage/index.ts';
import { runCities } from '../../cli/cities.ts';
import type { JobResult } from './protocol.ts';
import type { BenchServers, LoadGenerator } from './setup.ts';

export interface FloodResult {
  readonly alone: JobResult;
  readonly beside: JobResult;
  /** beside.p99 / alone.p99 */
  readonly ratio: number;
  readonly floodRequests: number;
  readonly floodPerSecond: number;
  /** Answers to the flood by HTTP status. */
  readonly floodStatuses: Record<string, number>;
  readonly storedHash: string;
}

async function registerFloodedApp(servers: BenchServers): Promise<{ clientId: string; storedHash: string }> {
  let stdout = '';
  let stderr = '';
  const issuer = servers.targets.get('broker')!.issuer;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, TONGBAN_MODE: 'development', TONGBAN_STORE: servers.redis.url, TONGBAN_STORE_NAMESPACE: 'bench-broker', TONGBAN_ISSUER: issuer };
  const code = await runCities(['register', '--city', '330100', '--name', `bench flooded app ${Date.now()}`, '--redirect-uri', 'http://127.0.0.1:9/flooded'], {
    env, stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; },
  });
  if (code !== 0) throw new Error(`registering the flooded app failed: ${stderr}`);
  const registered = JSON.parse(stdout) as { client_id: string };
  // Which kind of hash the flood is checked against, as stored.
  const store = await createStore(servers.redis.url, { namespace: 'bench-broker' });
  try {
    const app = await store.get<{ secret_hash?: string }>(`registry:app:${registered.client_id}`);
    return { clientId: registered.client_id, storedHash: app?.secret_hash?.split('$')[0] ?? 'unknown' };
  } finally {
    await store.close();
  }
}

export async function measureFlood(servers: BenchServers, load: LoadGenerator, seconds: number): Promise<FloodResult> {
  const target = servers.targets.get('broker')!;
  const { clientId, storedHash } = await registerFloodedApp(servers);
  const loginJob = { kind: 'login' as const, target, concurrency: 16, durationMs: seconds * 1000 };
  const alone = await load.run(loginJob);

  const statuses: Record<string, number> = {};
  let requests = 0;
  let flooding = true;
  const authorization = `Basic ${Buffer.from(`${clientId}:wrong-secret-${'x'.repeat(32)}`).toString('base64')}`;
  const attacker = async () => {
    while (flooding) {
      try {
        const response = await fetch(`${target.issuer}/token`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: 'grant_type=client_credentials',
        });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
      requests += 1;
    }
  };
  const started = performance.now();
  const attackers = Array.from({ length: 16 }, () => attacker());
  const beside = await load.run(loginJob);
  flooding = false;
  await Promise.all(attackers);
  const elapsed = (performance.now() - started) / 1000;
  return {
    alone, beside, ratio: beside.p99Ms / alone.p99Ms,
    floodRequests: requests, floodPerSecond: requests / elapsed, floodStatuses: statuses, storedHash,
  };
}

export function floodReport(flood: FloodResult): string {
  const f = (n: number) => n.toFixed(1);
  return [
    'wrong-secret flood (c16 wrong secrets beside c16 logins):',
    `  logins alone:        ${f(flood.alone.perSecond)}/s, p99 ${f(flood.alone.p99Ms)} ms, ${flood.alone.errors} err`,
    `  logins beside flood: ${f(flood.beside.perSecond)}/s, p99 ${f(flood.beside.p99Ms)} ms, ${flood.beside.errors} err`,
    `  flood: ${flood.floodRequests} wrong secrets, ${f(flood.floodPerSecond)}/s, answers ${JSON.stringify(flood.floodStatuses)}; stored secret: ${flood.storedHash}`,
    `  p99 ratio beside/alone: ${flood.ratio.toFixed(2)}× (target ≤ 2×)`,
  ].join('\n');
}
