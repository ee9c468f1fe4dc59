/**
 * A federation whose broker is several real processes behind one issuer URL: the national-platform
 * simulator (in this process, so tests can make it misbehave), a balancer at the issuer URL, and
 * broker nodes started from scripts/cli/broker.ts on a shared store. Stopping it checks what every
 * process it saw started wrote (test/support/process-logs.ts): no personal data, no secret the test
 * received, JSON log lines with levels.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from '@keyv/redis';
import pg from 'pg';
import type { ConfiguredClient } from '../../config/defaults.ts';
import type { NationalSimulator } from '../../scripts/dev/simulator/index.ts';
import { startBalancer, type Balancer } from './balancer.ts';
import { brokerClient, nationalSimulatorFor, relyingParty, type RelyingParty } from './federation.ts';
import { observeProcessOutputs, spawnBroker, type BrokerProcess, type ProcessOutput } from '../../scripts/dev/processes.ts';
import { checkProcessLogs, collectReceivedSecrets, configuredSecrets, describeCheck, type LogCheck } from './process-logs.ts';
import { hangzhouPortal, withSessions } from './clients.ts';

export const redisUrl = 'redis://127.0.0.1:6379';
export const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

export const portal: ConfiguredClient = hangzhouPortal({ ...withSessions, scope: 'openid profile phone offline_access' });

/**
 * How long a node may take to listen. A node's own start (store, keys, provider) takes about 1.5 s;
 * the rest is loading and compiling its modules, which on a busy two-core test machine (load 15 and
 * more) took 11-13 s for one node alone, beyond spawnBroker's 15 s default when three start at once.
 */
export const nodeStartTimeoutMs = 60_000;

export const newNamespace = () => `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;

export interface NodeFederation {
  /** The balancer's URL: what clients and the national platform know as the broker. */
  readonly issuer: string;
  readonly balancer: Balancer;
  readonly simulator: NationalSimulator;
  readonly nodes: BrokerProcess[];
  readonly rp: RelyingParty;
  readonly namespace: string;
  /** The configuration every node was started with. */
  readonly config: Record<string, unknown>;
  /** Starts one more node with the same configuration (plus `env`), behind the balancer. */
  addNode(env?: Record<string, string>): Promise<BrokerProcess>;
  /** Every process started while the federation ran (its nodes, the CLIs a test ran), with its lines. */
  readonly outputs: readonly ProcessOutput[];
  /** Tokens, codes, cookies and secrets the test received or configured; a test may add more. */
  readonly secrets: Set<string>;
  /** Stops every process, then checks all their lines (a failure fails the suite's `after`). */
  stop(): Promise<LogCheck>;
}

export interface NodeFederationOptions {
  readonly store: string;
  readonly nodes?: number;
  /** Merged into every node's configuration. */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

export async function startNodeFederation(options: NodeFederationOptions): Promise<NodeFederation> {
  const balancer = await startBalancer();
  const issuer = balancer.url;
  const simulator = nationalSimulatorFor(issuer);
  const nodes: BrokerProcess[] = [];
  const namespace = newNamespace();
  const config: Record<string, unknown> = {
    mode: 'development',
    issuer,
    listen: { host: '127.0.0.1', port: 0 },
    metrics: { listen: { host: '127.0.0.1', port: 0 } },
    store: options.store,
    storeNamespace: namespace,
    logLevel: 'info',
    national: { issuer: '', clientId: brokerClient.clientId, clientSecret: brokerClient.clientSecret, timeoutMs: 2000 },
    clients: [portal],
  };
  merge(config, options.config ?? {});
  const observed = observeProcessOutputs();
  const received = collectReceivedSecrets();
  const end = async () => {
    observed.close();
    received.close();
    await balancer.close();
    // SIGTERM, so each node also writes its shutdown lines; SIGKILL if one does not end soon.
    await Promise.all(nodes.map(async (node) => {
      const killer = setTimeout(() => void node.stop('SIGKILL'), 3000);
      await node.stop('SIGTERM');
      clearTimeout(killer);
    }));
    await Promise.all(observed.outputs.map((output) => output.ended));
    await simulator.stop();
    await deleteNamespace(options.store, namespace).catch(() => undefined);
  };
  const stop = async () => {
    await end();
    // The national simulator runs in this process and writes no lines; every broker node is a process.
    const check = checkProcessLogs(observed.outputs, [...configuredSecrets(config), ...received.secrets]);
    process.stdout.write(`      ${describeCheck(check)}\n`);
    return check;
  };
  try {
    await simulator.start();
    config.national = { ...(config.national as object), issuer: simulator.issuer };
    const addNode = async (env: Record<string, string> = {}) => {
      const node = await spawnBroker({ config, env: { ...options.env, ...env }, startTimeoutMs: nodeStartTimeoutMs });
      nodes.push(node);
      balancer.nodes = nodes.map((n) => n.url);
      return node;
    };
    // The first node generates the development keys; the others read them.
    await addNode();
    await Promise.all(Array.from({ length: (options.nodes ?? 3) - 1 }, () => addNode()));
    const rp = await relyingParty(issuer, { clientId: portal.client_id, clientSecret: portal.client_secret!, redirectUri: portal.redirect_uris[0]! });
    return { issuer, balancer, simulator, nodes, rp, namespace, config, addNode, outputs: observed.outputs, secrets: received.secrets, stop };
  } catch (error) {
    await end();
    throw error;
  }
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)) {
      const copy = { ...(current as Record<string, unknown>) };
      merge(copy, value as Record<string, unknown>);
      target[key] = copy;
    } else {
      target[key] = value;
    }
  }
}

/** Removes a test namespace from a shared server (Redis or PostgreSQL; private servers just stop). */
export async function deleteNamespace(store: string, namespace: string): Promise<void> {
  if (store.startsWith('redis://')) {
    const client = createClient({ url: store });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        if (keys.length > 0) await client.unlink(keys);
      }
    } finally {
      client.destroy();
    }
  } else if (store.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: store, max: 1 });
    try {
      for (const table of ['tongban_records', 'tongban_claims', 'tongban_sets']) {
        await pool.query(`DELETE FROM ${table} WHERE key LIKE $1`, [`${namespace}:%`]);
      }
      await pool.query('DELETE FROM tongban_set_members WHERE set_key LIKE $1', [`${namespace}:%`]);
    } finally {
      await pool.end();
    }
  }
}

/** Waits until `check` resolves truthy, polling every `everyMs`; fails after `withinMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, withinMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + withinMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Signed times for the Zhejiang legacy API (`yyyyMMddHHmmss`, Beijing time), each one different:
 * the broker accepts a (time, sign) pair once (code 6007 for a reuse), so every call is signed
 * afresh. Calls made in the same second get times a second apart, from two minutes back, well
 * inside the broker's five-minute window.
 */
export function freshZhejiangTimes(): () => string {
  let lastSecond = 0;
  return () => {
    const second = Math.max(Math.floor(Date.now() / 1000) - 120, lastSecond + 1);
    lastSecond = second;
    return new Date(second * 1000 + 8 * 3600_000).toISOString().slice(0, 19).replace(/\D/g, '');
  };
}
