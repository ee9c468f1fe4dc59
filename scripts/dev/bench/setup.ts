/**
 * Starts what the benchmark and the soak measure, each in its own process, on this machine: a
 * private redis-server (the store of all three contenders), the national simulator, the broker,
 * the bare provider, the relay, and the load generator; for the multi-node phase, broker nodes on
 * one namespace behind a non-sticky balancer (balancer.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { freePort, repositoryRoot, spawnBroker, startPrivateRedis, type BrokerProcess, type PrivateRedis } from '../processes.ts';
import type { Job, JobResult, Progress, Target, UsageMessage } from './protocol.ts';
import { defaults, routes } from '../../../config/defaults.ts';
import { startBenchBalancer, type BenchBalancer } from './balancer.ts';

export const benchClient = {
  client_id: 'bench-portal',
  client_secret: 'bench-portal-secret-0123456789',
  redirect_uri: 'http://127.0.0.1:9/callback',
};

export type ServerName = 'broker' | 'bare' | 'relay' | 'national' | 'cluster';

export interface ServerHandle {
  readonly name: ServerName;
  readonly url: string;
  readonly process: BrokerProcess;
  /** Namespace of its keys in Redis (not for the national simulator, which keeps its state in memory). */
  readonly namespace?: string;
  usage(): Promise<UsageMessage>;
  stop(): Promise<void>;
}

export interface BenchServers {
  readonly redis: PrivateRedis;
  readonly servers: Map<ServerName, ServerHandle>;
  readonly targets: Map<ServerName, Target>;
  /** The multi-node phase's nodes (all on namespace `bench-cluster`) and their balancer. */
  readonly cluster?: { readonly nodes: ServerHandle[]; readonly balancer: BenchBalancer };
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** Which contenders to start; the national simulator always starts. */
  readonly contenders: ReadonlyArray<'broker' | 'bare' | 'relay'>;
  /** Node options per server, e.g. `--cpu-prof` or `--expose-gc`. */
  readonly nodeArgs?: Partial<Record<ServerName, string[]>>;
  readonly logLevel?: string;
  /** Broker nodes to start behind a balancer, as the `cluster` target (none by default). */
  readonly clusterNodes?: number;
}

function usageOf(child: ChildProcess): Promise<UsageMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== 'usage') return;
      child.off('message', onMessage);
      resolve(message as UsageMessage);
    };
    child.on('message', onMessage);
    if (!child.send({ type: 'usage' })) reject(new Error('the server process is gone'));
  });
}

export async function startBenchServers(options: BenchServerOptions): Promise<BenchServers> {
  const redis = await startPrivateRedis({ args: ['--maxmemory-policy', 'noeviction'] });
  const servers = new Map<ServerName, ServerHandle>();
  const targets = new Map<ServerName, Target>();
  const balancer = options.clusterNodes ? await startBenchBalancer() : undefined;
  const ports = { broker: await freePort(), bare: await freePort(), relay: await freePort(), national: await freePort(), cluster: balancer?.port ?? 0 };
  const issuer = (name: ServerName) => `http://127.0.0.1:${ports[name]}`;
  const clusterNodes: ServerHandle[] = [];
  const stop = async () => {
    await Promise.all([...servers.values(), ...clusterNodes].map((server) => server.stop()));
    await balancer?.close();
    await redis.stop();
  };

  const start = async (name: ServerName, spec: Record<string, unknown>, config: Record<string, unknown> = {}, namespace?: string) => {
    const child = await spawnBroker({
      script: 'scripts/dev/bench/server.ts',
      args: [name],
      config,
      // Several bench servers run at once: each takes a free metrics port.
      env: { BENCH_SPEC: JSON.stringify(spec), TONGBAN_MODE: 'development', TONGBAN_METRICS_PORT: '0' },
      nodeArgs: options.nodeArgs?.[name] ?? [],
      ipc: true,
      keepLogs: false,
      // Generous: on a busy machine tsx compiles the whole broker before it listens.
      startTimeoutMs: 120_000,
    });
    const handle: ServerHandle = {
      name,
      url: child.url,
      process: child,
      ...(namespace ? { namespace } : {}),
      usage: () => usageOf(child.child),
      async stop() {
        if (child.child.connected) child.child.send({ type: 'stop' });
        else child.child.kill('SIGTERM');
        const timer = setTimeout(() => child.child.kill('SIGKILL'), 10_000);
        await child.exited;
        clearTimeout(timer);
      },
    };
    if (name === 'cluster') clusterNodes.push(handle);
    else servers.set(name, handle);
    return handle;
  };
  // The broker as `npm run broker` starts it, with everything on (sealing, audit, metrics, pino).
  const brokerConfig = (name: 'broker' | 'cluster', port: number, clientId: string, clientSecret: string) => ({
    issuer: issuer(name),
    listen: { host: '127.0.0.1', port },
    store: redis.url,
    storeNamespace: `bench-${name}`,
    logLevel: options.logLevel ?? 'info',
    national: { issuer: issuer('national'), clientId, clientSecret, timeoutMs: 5000 },
    clients: [{ ...registered, city: '330100', scope: 'openid profile', first_party: true }],
    // Rate limits on, as in production: every counted request pays for its counting. The load is
    // one address, one person and one app, so every limit is raised far above it (ten million a
    // window): the counting is measured, not the refusals. The wrong-secret flood (flood.ts) is
    // counted in full too, each wrong secret checked and counted, never refused after the 10th.
    // Every limit the defaults name, so one added later is raised too.
    rateLimits: Object.fromEntries(Object.entries(defaults.rateLimits).map(([group, table]) => [group, typeof table === 'object' && table !== null
      ? Object.fromEntries(Object.keys(table).map((name) => [name, { points: 10_000_000, durationSeconds: 60 }]))
      : table])),
  });
  const client = { ...benchClient, redirect_uris: [benchClient.redirect_uri], grant_types: ['authorization_code', 'refresh_token'] };
  const { redirect_uri: _unused, ...registered } = client;

  try {
    const nationalClients = [
      { client_id: 'tongban-broker', client_secret: 'bench-national-secret-0123456789', redirect_uris: [`${issuer('broker')}${routes.nationalCallback}`] },
      { client_id: 'bench-relay', client_secret: 'bench-relay-secret-0123456789', redirect_uris: [`${issuer('relay')}/callback`] },
      ...(balancer ? [{ client_id: 'tongban-cluster', client_secret: 'bench-cluster-secret-0123456789', redirect_uris: [`${issuer('cluster')}${routes.nationalCallback}`] }] : []),
    ];
    await start('national', { port: ports.national, clients: nationalClients });
    const yardstick = (name: 'bare' | 'relay') => ({
      issuer: issuer(name), port: ports[name], store: redis.url, namespace: `bench-${name}`,
      client: { ...registered, response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
    });
    const jobs: Array<Promise<unknown>> = [];
    if (options.contenders.includes('broker')) {
      jobs.push(start('broker', {}, brokerConfig('broker', ports.broker, 'tongban-broker', 'bench-national-secret-0123456789'), 'bench-broker'));
    }
    if (options.contenders.includes('bare')) jobs.push(start('bare', yardstick('bare'), {}, 'bench-bare'));
    if (options.contenders.includes('relay')) {
      jobs.push(start('relay', { ...yardstick('relay'), upstream: { issuer: issuer('national'), clientId: 'bench-relay', clientSecret: 'bench-relay-secret-0123456789' } }, {}, 'bench-relay'));
    }
    await Promise.all(jobs);
    if (balancer) {
      // One after the other: the first node writes the development keys, the others read them.
      for (let n = 0; n < options.clusterNodes!; n += 1) {
        await start('cluster', {}, brokerConfig('cluster', await freePort(), 'tongban-cluster', 'bench-cluster-secret-0123456789'), 'bench-cluster');
      }
      balancer.nodes = clusterNodes.map((node) => node.url);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  for (const name of [...options.contenders, ...(balancer ? ['cluster' as const] : [])]) {
    targets.set(name, {
      name,
      issuer: issuer(name),
      clientId: benchClient.client_id,
      clientSecret: benchClient.client_secret,
      redirectUri: benchClient.redirect_uri,
      scope: 'openid profile',
      // The broker and the relay reach the national login page; the bare provider its own.
      username: name === 'bare' ? 'bench-person' : 'zhangsan',
      password: 'tongban-demo',
    });
  }
  return { redis, servers, targets, ...(balancer ? { cluster: { nodes: clusterNodes, balancer } } : {}), stop };
}

export interface LoadGenerator {
  run(job: Job, onProgress?: (progress: Progress) => void): Promise<JobResult>;
  stop(): Promise<void>;
}

export async function startLoadGenerator(): Promise<LoadGenerator> {
  const child = fork(join(repositoryRoot, 'scripts/dev/bench/load.ts'), [], {
    cwd: repositoryRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  });
  return {
    run(job, onProgress) {
      return new Promise((resolve, reject) => {
        const onMessage = (message: { type?: string; result?: JobResult; message?: string } & Partial<Progress>) => {
          if (message.type === 'progress') {
            onProgress?.(message as Progress);
            return;
          }
          child.off('message', onMessage);
          if (message.type === 'result') resolve(message.result!);
          else reject(new Error(message.message ?? 'load generator failed'));
        };
        child.on('message', onMessage);
        child.send({ type: 'job', job });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

export interface RedisFootprint {
  readonly keys: number;
  readonly bytes: number;
  /** Keys that live as long as a session (TTL above 10 minutes, or none). */
  readonly retainedBytes: number;
  /** By key shape (ids replaced by `*`): count and bytes. */
  readonly byShape: Record<string, { keys: number; bytes: number; ttlSeconds: number }>;
  readonly usedMemory: number;
}

/** What a namespace occupies in Redis, key by key (MEMORY USAGE), plus the server's used_memory. */
export async function redisFootprint(url: string, namespace: string): Promise<RedisFootprint> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let keys = 0;
    let bytes = 0;
    let retainedBytes = 0;
    const byShape: Record<string, { keys: number; bytes: number; ttlSeconds: number }> = {};
    for await (const batch of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1000 })) {
      for (const key of batch) {
        const [size, ttl] = await Promise.all([client.memoryUsage(key, { SAMPLES: 0 }), client.pTTL(key)]);
        if (size === null) continue;
        keys += 1;
        bytes += size;
        if (ttl < 0 || ttl > 600_000) retainedBytes += size;
        const shape = key.slice(namespace.length + 1).replace(/[A-Za-z0-9_-]{16,}/g, '*');
        const entry = (byShape[shape] ??= { keys: 0, bytes: 0, ttlSeconds: 0 });
        entry.keys += 1;
        entry.bytes += size;
        entry.ttlSeconds = Math.max(entry.ttlSeconds, Math.round(ttl / 1000));
      }
    }
    const info = await client.info('memory');
    const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    return { keys, bytes, retainedBytes, byShape, usedMemory };
  } finally {
    client.destroy();
  }
}

/** Keys and used memory of the whole (private) Redis: cheap enough to sample during a soak. */
export async function redisSize(url: string): Promise<{ keys: number; usedMemory: number }> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const keys = await client.dbSize();
    const usedMemory = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? 0);
    return { keys, usedMemory };
  } finally {
    client.destroy();
  }
}

/** Commands the (private) Redis has executed so far, all kinds together (INFO commandstats). */
export async function redisCommands(url: string): Promise<number> {
  const stats = await redisInfo(url, 'commandstats');
  // The connection's own INFO and HELLO calls are counted too: a handful per sample.
  return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** One INFO section of the (private) Redis, over a connection of its own. */
async function redisInfo(url: string, section: string): Promise<string> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.info(section);
  } finally {
    client.destroy();
  }
}

/**
 * Redis MONITOR over one namespace until `stop`: the commands, by `COMMAND key-shape` (ids replaced
 * by `*`), that ran meanwhile, commands run by scripts included (as INFO commandstats counts them),
 * the commands sent by clients (a script is one), and the round trips: the read events Redis
 * processed meanwhile (INFO stats `total_reads_processed`), so commands a node sends together in one
 * write count once. The private Redis serves only the contender traced (and these two INFO calls).
 * For `npm run bench -- --trace`.
 */
export async function monitorRedis(url: string, namespace: string): Promise<{ stop(): Promise<{ commands: Record<string, number>; sent: number; roundTrips: number }> }> {
  const readsProcessed = async () => Number(/total_reads_processed:(\d+)/.exec(await redisInfo(url, 'stats'))?.[1] ?? NaN);
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const seen: Record<string, number> = {};
  let sent = 0;
  await client.monitor((line: string) => {
    const parts = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    const [command = '?', key = ''] = parts;
    if (!key.startsWith(`${namespace}:`) && !parts.some((p) => p.startsWith(`${namespace}:`))) return;
    // A script's body is no key: name it by its first command.
    const shown = command.toUpperCase() === 'EVAL' ? `(script: ${/redis\.call\('(\w+)'/.exec(key)?.[1] ?? '?'} …) ${parts[3] ?? ''}` : key;
    const shape = `${command.toUpperCase()} ${shown.replace(`${namespace}:`, '').replace(/[A-Za-z0-9_-]{16,}/g, '*')}`;
    seen[shape] = (seen[shape] ?? 0) + 1;
    if (!/\[\d+ lua\]/.test(line)) sent += 1;
  });
  const readsBefore = await readsProcessed();
  return {
    async stop() {
      // The second INFO connection's own reads (HELLO or none, INFO): about two.
      const roundTrips = (await readsProcessed()) - readsBefore - 2;
      client.destroy();
      return { commands: seen, sent, roundTrips };
    },
  };
}
