/**
 * Real processes for tests and the benchmark: broker nodes started from scripts/cli/broker.ts, a
 * private redis-server (to kill and restart), and a throwaway three-master Redis Cluster, all on
 * free loopback ports. Every child is ended when its owner stops it, and killed if the test
 * process exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from '@keyv/redis';
import { captureOutput, type ProcessOutput } from './output.ts';

export { observeProcessOutputs, type OutputLine, type ProcessOutput } from './output.ts';

export const repositoryRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test that fails before its after hook must not leave servers running.
    process.once('exit', () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolveBindable) => {
    const server = net.createServer();
    server.once('error', () => resolveBindable(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveBindable(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free as well, so below 55536. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (await bindable(port) && await bindable(port + 10_000)) return port;
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
}

async function spawned(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', resolveSpawn);
    child.once('error', reject);
  });
}

/** Counts the open sockets of a process (Linux /proc): connections, listeners, client pools. */
export function openSockets(pid: number): number {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count += 1;
    } catch {
      // closed while listing
    }
  }
  return count;
}

async function redisReady(port: number, attempts = 100): Promise<void> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  for (let attempt = 0; ; attempt += 1) {
    try {
      await client.connect();
      await client.ping();
      client.destroy();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(50);
    }
  }
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** Starts the server (again) on the same port, empty. */
  start(): Promise<void>;
  /** SIGKILL: the server vanishes as in a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of our own on a free port, without persistence, to crash and bring back. */
export async function startPrivateRedis(options: { port?: number; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = options.port ?? await freePort();
  let child: ChildProcess | undefined;
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.args ?? []),
      ], { stdio: 'ignore' });
      track(child);
      await spawned(child);
      await redisReady(port);
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGTERM');
      await done;
    },
  };
  await redis.start();
  return redis;
}

export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c` */
  readonly url: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** A throwaway three-master Redis Cluster on free ports, started from the redis-server binary. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const processes: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tongban-cluster-'));
  const stop = async () => {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(processes.map((child) => exited(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freeClusterPort();
      if (!ports.includes(port)) ports.push(port);
    }
    for (const port of ports) {
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
        '--save', '', '--appendonly', 'no',
      ], { stdio: 'ignore' });
      processes.push(child);
      track(child);
      await spawned(child);
    }
    const clients: Array<{ sendCommand(args: string[]): Promise<unknown>; destroy(): void }> = [];
    for (const port of ports) {
      await redisReady(port);
      const client = createClient({ url: `redis://127.0.0.1:${port}` });
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client as unknown as (typeof clients)[number]);
    }
    const ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
    await Promise.all(clients.map((client, i) =>
      client.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', String(ranges[i]?.[0]), String(ranges[i]?.[1])])));
    // Every node meets every other (gossip alone sometimes leaves one behind), again while waiting.
    const meet = () => Promise.all(clients.map((client, i) => Promise.all(ports.filter((_, j) => j !== i)
      .map((port) => client.sendCommand(['CLUSTER', 'MEET', '127.0.0.1', String(port)])))));
    await meet();
    for (let attempt = 0; ; attempt += 1) {
      if (attempt % 20 === 19) await meet();
      const infos = await Promise.all(clients.map((client) => client.sendCommand(['CLUSTER', 'INFO'])));
      if (infos.every((info) => String(info).includes('cluster_state:ok'))) break;
      if (attempt > 100) throw new Error(`redis cluster did not converge: ${infos.map((info) => String(info).split('\n').slice(0, 6).join(' ')).join(' / ')}`);
      await sleep(50);
    }
    for (const client of clients) client.destroy();
    return { url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`, ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface BrokerProcess {
  /** Where this node listens (not the issuer, which a balancer may front). */
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every line the node wrote on stdout and stderr (unless `keepLogs` is false). */
  readonly output: ProcessOutput;
  /** Log lines (JSON objects) the node has written so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Sends a signal (default SIGTERM) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface BrokerProcessOptions {
  /** The configuration, written to a temporary file passed as TONGBAN_CONFIG. */
  readonly config: Record<string, unknown>;
  /** Extra environment (TONGBAN_* variables override the file). */
  readonly env?: Record<string, string>;
  /** Extra node options, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Script to run instead of scripts/cli/broker.ts (relative to the repository). */
  readonly script?: string;
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** Use an IPC channel (for scripts that answer messages). */
  readonly ipc?: boolean;
  /** Keep the lines in `logs` and `output` (default true; long benchmark runs do not). */
  readonly keepLogs?: boolean;
  readonly startTimeoutMs?: number;
}

/** Writes a JSON config file into a fresh temporary folder; returns its path. */
export function writeConfigFile(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Starts one broker node as its own process, as `npm run broker` does, and waits until it listens. */
export async function spawnBroker(options: BrokerProcessOptions): Promise<BrokerProcess> {
  const configFile = writeConfigFile(options.config);
  const child = spawn(process.execPath, [
    ...(options.nodeArgs ?? []), '--import', 'tsx', join(repositoryRoot, options.script ?? 'scripts/cli/broker.ts'), ...(options.args ?? []),
  ], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TONGBAN_CONFIG: configFile, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
  });
  track(child);
  const logs: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  let listening: ((url: string) => void) | undefined;
  const output = captureOutput(child, options.script ?? 'scripts/cli/broker.ts', {
    keep: options.keepLogs !== false,
    onLine: (line) => {
      if (line.stream === 'stdout') {
        // Only the start-up is looked for here; the lines themselves are in `output`.
        const match = /listening on (http:\/\/\S+)/.exec(line.text);
        if (match?.[1]) listening?.(match[1]);
        return;
      }
      if (line.json && options.keepLogs !== false) {
        logs.push(line.json);
        return;
      }
      text.push(line.text);
      if (text.length > 50) text.shift();
    },
  });
  const exit = exited(child);
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start within ${options.startTimeoutMs ?? 15_000} ms: ${text.slice(-5).join(' | ')}`));
    }, options.startTimeoutMs ?? 15_000);
    listening = (found) => {
      listening = undefined;
      clearTimeout(timer);
      resolveUrl(found);
    };
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening: ${[...text.slice(-5), ...logs.slice(-3).map((l) => JSON.stringify(l))].join(' | ')}`));
    });
  });
  rmSync(dirname(configFile), { recursive: true, force: true });
  return {
    url,
    pid: child.pid!,
    child,
    output,
    logs,
    exited: exit,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}

export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script of the repository to its end (e.g. scripts/cli/keys.ts) with a configuration file. */
export async function runScript(script: string, args: readonly string[], options: { config?: Record<string, unknown>; env?: Record<string, string> } = {}): Promise<ScriptResult> {
  const configFile = options.config ? writeConfigFile(options.config) : undefined;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repositoryRoot, script), ...args], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(configFile ? { TONGBAN_CONFIG: configFile } : {}), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let stdout = '';
    let stderr = '';
    // Observers see the lines too (kind `command`: stdout is the answer, stderr the diagnostics).
    captureOutput(child, script, { keep: true, kind: 'command' });
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    // 'close', not 'exit': the output streams are complete by then.
    const code = await new Promise<number | null>((resolveClose) => child.once('close', (c: number | null) => resolveClose(c)));
    return { code, stdout, stderr };
  } finally {
    if (configFile) rmSync(dirname(configFile), { recursive: true, force: true });
  }
}
