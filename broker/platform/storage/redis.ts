/**
 * Redis backend (one server, or a Redis Cluster): the engine to scale out on. Records go through
 * @keyv/redis over our own node-redis client; claims and sets are native single-key commands, so
 * every command addresses one key and one cluster slot. Redis expires keys itself, so `sweep()`
 * has nothing to do.
 *
 * Failure behaviour: commands are never queued while disconnected (`disableOfflineQueue`), so a
 * call made during an outage rejects at once; the client keeps reconnecting with backoff and the
 * store resumes by itself. There is no per-command timeout on purpose: node-redis keeps a timer and
 * the request context alive per command with one, which leaks under load.
 */
import type { EventEmitter } from 'node:events';
import KeyvRedis, { createClient, createCluster } from '@keyv/redis';
import type { RedisClientOptions, RedisClusterOptions } from '@keyv/redis';
import {
  type BackendOptions, checkRequiredTtl, checkTtl, errorMessage, wholeMs,
} from './common.ts';
import { createRecords, takenRecord } from './records.ts';
import type { Store } from './types.ts';

const connectTimeoutMs = 3_000;
/** Attempts before the first connection is given up: a wrong URL fails start-up instead of hanging. */
const startupAttempts = 3;

/**
 * A set's expiry only ever grows, without a script: SADD, then `PEXPIRE key ttl NX` (sets an expiry
 * on a set that has none: the one SADD just created) and `PEXPIRE key ttl GT` (raises one that ends
 * sooner; GT never touches a set without expiry). Each adder thereby leaves the set ending at least
 * `ttl` from its own PEXPIREs whatever the interleaving of several adders: once its NX has run the set
 * has an expiry, an earlier or a later one, and its GT raises it to its own if lower; no command of
 * another adder lowers it. So the set ends at the latest of the wanted ends, as the script that read
 * PTTL first did. The three go out in one write (node-redis sends the commands issued in one tick
 * together): one round trip and three commands, where EVAL, PTTL, SADD and PEXPIRE were four. One
 * key, so one cluster slot.
 *
 * What the script gave and this does not: a set about to expire (under a millisecond left, between
 * the SADD and the PEXPIREs) loses the new member with it; and a bounded add to a set without expiry
 * gives it one (NX cannot tell it from a new set), so a set's adds are either all bounded or all
 * unbounded (types.ts). Unbounded: SADD and PERSIST, in one round trip.
 */
/** Appends at ARGV[1] only while the list is exactly that long: one winner per position. */
const appendToLogScript = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
return 1`;

/** HINCRBY, then extend the group's expiry only upwards (PTTL is -1 for a group just created). */
const incrementScript = `
local value = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return value`;

/** The commands the primitives use; the same on a client and on a cluster. */
interface RedisCommands {
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  sAdd(key: string, member: string): Promise<unknown>;
  pExpire(key: string, ms: number, mode?: 'NX' | 'GT'): Promise<unknown>;
  persist(key: string): Promise<unknown>;
  sRem(key: string, member: string): Promise<unknown>;
  sMembers(key: string): Promise<string[]>;
  unlink(key: string): Promise<unknown>;
  getDel(key: string): Promise<string | null>;
  lRange(key: string, start: number, stop: number): Promise<string[]>;
  lLen(key: string): Promise<number>;
  hGetAll(key: string): Promise<Record<string, string>>;
}

interface RedisConnection {
  readonly commands: RedisCommands;
  // The keyv adapter's constructor accepts either kind of connection.
  readonly keyvConnection: ConstructorParameters<typeof KeyvRedis>[0];
  connect(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `redis+cluster://[user:pass@]host:port,host:port[?…]` → one `redis://` URL per root node. */
export function clusterRootUrls(url: string): string[] {
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)/.exec(url);
  if (!match?.[3]) throw new Error('redis+cluster URL needs at least one host:port');
  const [, scheme, auth, hosts] = match;
  return hosts.split(',').filter(Boolean).map((host) => `${scheme}://${auth ? `${auth}@` : ''}${host}`);
}

function reconnectStrategy(state: { started: boolean }) {
  return (retries: number, cause: Error): number | Error => {
    if (!state.started && retries + 1 >= startupAttempts) return cause;
    return Math.min(100 * 2 ** retries, 3_000) + Math.floor(Math.random() * 100);
  };
}

function watchHealth(
  emitter: EventEmitter,
  options: BackendOptions,
  backend: string,
  events: { error: string; ready: string },
): void {
  let up = true;
  // An unhandled 'error' event would crash the process; log once per outage, not per retry.
  emitter.on(events.error, (error: Error) => {
    if (!up) return;
    up = false;
    options.logger.warn('storage.unavailable', { backend, reason: errorMessage(error) });
  });
  emitter.on(events.ready, () => {
    if (up) return;
    up = true;
    options.logger.info('storage.available', { backend });
  });
}

function singleConnection(url: string, options: BackendOptions): RedisConnection {
  const state = { started: false };
  const clientOptions: RedisClientOptions = {
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectStrategy(state) },
  };
  const client = createClient(clientOptions);
  watchHealth(client, options, 'redis', { error: 'error', ready: 'ready' });
  return connectionOver(client, state, async () => {
    await client.ping();
  });
}

function clusterConnection(url: string, options: BackendOptions): RedisConnection {
  const state = { started: false };
  const clusterOptions: RedisClusterOptions = {
    rootNodes: clusterRootUrls(url).map((nodeUrl) => ({ url: nodeUrl })),
    defaults: {
      disableOfflineQueue: true,
      socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnectStrategy(state) },
    },
  };
  const cluster = createCluster(clusterOptions);
  cluster.on('error', (error: Error) => {
    options.logger.warn('storage.cluster_error', { backend: 'redis-cluster', reason: errorMessage(error) });
  });
  watchHealth(cluster, options, 'redis-cluster', { error: 'node-error', ready: 'node-ready' });
  return connectionOver(cluster, state, async () => {
    // Every shard: a store with one master down cannot serve a third of its keys.
    await Promise.all(cluster.masters.map(async (master) => (await cluster.nodeClient(master)).ping()));
  });
}

/** A client or a cluster as the store uses it; once connected, `state.started` lets it reconnect. */
function connectionOver(
  client: { connect(): Promise<unknown>; close(): Promise<unknown>; destroy(): unknown },
  state: { started: boolean },
  ping: () => Promise<void>,
): RedisConnection {
  return {
    commands: client as unknown as RedisCommands,
    keyvConnection: client as unknown as ConstructorParameters<typeof KeyvRedis>[0],
    async connect() {
      await client.connect();
      state.started = true;
    },
    ping,
    async close() {
      await client.close().catch(() => client.destroy());
    },
  };
}

export async function createRedisStore(url: string, options: BackendOptions & { cluster: boolean }): Promise<Store> {
  const connection = options.cluster ? clusterConnection(url, options) : singleConnection(url, options);
  await connection.connect();

  // Disjoint prefixes: a record, a claim and a set may share a caller's key without a WRONGTYPE clash.
  const base = `${options.namespace}:`;
  const claimKey = (key: string) => `${base}c:${key}`;
  const setKey = (key: string) => `${base}s:${key}`;
  const logKey = (key: string) => `${base}l:${key}`;
  const counterKey = (key: string) => `${base}n:${key}`;
  const adapter = new KeyvRedis(connection.keyvConnection, { throwOnErrors: true, throwOnConnectError: true });
  // Redis expires each record by its PX: the value needs no expiry of its own.
  const recordKey = (key: string) => `${base}r:${key}`;
  const records = createRecords(adapter, recordKey(''), { nativeExpiry: true });
  const { commands } = connection;

  return {
    kind: options.cluster ? 'redis-cluster' : 'redis',
    ...records,
    async consume<T>(key: string) {
      // GETDEL (Redis 6.2): one command, and only one caller ever gets the value.
      return takenRecord<T>(await commands.getDel(recordKey(key)));
    },
    async claim(key, ttlMs) {
      checkRequiredTtl(ttlMs, 'claim');
      const reply = await commands.set(claimKey(key), '1', { condition: 'NX', expiration: { type: 'PX', value: wholeMs(ttlMs) } });
      return reply === 'OK';
    },
    async addToSet(key, member, ttlMs, addOptions) {
      checkTtl(ttlMs, 'addToSet');
      const set = setKey(key);
      // Issued in the same tick, without awaiting one another: one write, one round trip.
      const sent = ttlMs === undefined
        ? [commands.sAdd(set, member), commands.persist(set)]
        : addOptions?.fixedLifetime
          // Every add to this set promises a lifetime covering every member (types.ts): no comparison.
          ? [commands.sAdd(set, member), commands.pExpire(set, wholeMs(ttlMs))]
          : [commands.sAdd(set, member), commands.pExpire(set, wholeMs(ttlMs), 'NX'), commands.pExpire(set, wholeMs(ttlMs), 'GT')];
      await Promise.all(sent);
    },
    async removeFromSet(key, member) {
      await commands.sRem(setKey(key), member);
    },
    async members(key) {
      return commands.sMembers(setKey(key));
    },
    async deleteSet(key) {
      await commands.unlink(setKey(key));
    },
    async appendToLog(log, position, entry) {
      const reply = await commands.eval(appendToLogScript, { keys: [logKey(log)], arguments: [String(position), entry] });
      return Number(reply) === 1;
    },
    async readLog(log, from, count) {
      if (count <= 0) return [];
      return commands.lRange(logKey(log), from, from + count - 1);
    },
    async logLength(log) {
      return commands.lLen(logKey(log));
    },
    async increment(key, field, by, ttlMs) {
      checkRequiredTtl(ttlMs, 'increment');
      const reply = await commands.eval(incrementScript, { keys: [counterKey(key)], arguments: [field, String(Math.trunc(by)), String(wholeMs(ttlMs))] });
      return Number(reply);
    },
    async counters(key) {
      const reply = await commands.hGetAll(counterKey(key));
      return Object.fromEntries(Object.entries(reply).map(([field, value]) => [field, Number(value)]));
    },
    async ping() {
      await connection.ping();
    },
    async sweep() {
      return 0;
    },
    async close() {
      await connection.close();
    },
  };
}
