/**
 * The rate limits' contract, run against every backend the store can be: memory, SQLite, Redis,
 * Redis Cluster (a throwaway one, from the redis-server binary) and PostgreSQL. Two connections
 * stand for two broker nodes: on a shared backend the second sees the first one's count, within
 * about one sync interval (each node decides from its synced view, broker/platform/rate-limit/view.ts),
 * and a request on a key the node knows asks nothing of the store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import type { RateLimit, RateLimits } from '../../config/defaults.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createRateLimiters, limiterConnectionOf, openLimiterBackend, type LimiterBackend, type RateLimiters } from '../../broker/platform/rate-limit/index.ts';
import { maxKeysPerLimit, syncIntervalMs } from '../../broker/platform/rate-limit/view.ts';
import { startRedisCluster, type RedisCluster } from '../../scripts/dev/processes.ts';

const small: RateLimit = { points: 3, durationSeconds: 60 };
const failures: RateLimit = { points: 2, durationSeconds: 60, blockSeconds: 120 };
const settings: RateLimits = {
  enabled: true,
  perClient: { token: small, introspection: small, revocation: small, userinfo: small, registration: small },
  perAddress: { authorization: small, interactions: small, legacyLogin: small, adminApi: small, registration: small },
  perPerson: { login: small },
  failures: {
    clientSecretPerClient: failures, clientSecretPerAddress: failures, operatorKeyPerAddress: failures,
    legacySignaturePerService: failures, legacySignaturePerAddress: failures,
  },
};

/** The store methods of rate-limiter-flexible's limiters: each call is one store round trip (or more). */
const storeMethods = new Set(['consume', 'get', 'penalty', 'reward', 'block', 'set', 'delete']);

/** The backend with every store call of its limiters written to `calls` (or failing with `fail`). */
function watched(backend: LimiterBackend, calls: string[], fail?: Error): LimiterBackend {
  return {
    ...backend,
    limiter(name, limit) {
      const limiter = backend.limiter(name, limit);
      return new Proxy(limiter, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          if (!storeMethods.has(String(property))) return value.bind(target);
          return (...args: unknown[]) => {
            calls.push(`${name}.${String(property)}`);
            return fail ? Promise.reject(fail) : (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks `attempt` every `everyMs` until it answers true or `withinMs` have passed; how many asks it took (0: never). */
async function eventually(attempt: () => Promise<boolean>, withinMs: number, everyMs: number): Promise<number> {
  const started = Date.now();
  for (let asks = 1; ; asks += 1) {
    if (await attempt()) return asks;
    if (Date.now() - started >= withinMs) return 0;
    await pause(everyMs);
  }
}

interface Backend {
  readonly name: string;
  readonly shared: boolean;
  url(): Promise<string>;
  teardown?(): Promise<void>;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'tongban-rl-'));
let cluster: Promise<RedisCluster> | undefined;
const backends: Backend[] = [
  { name: 'memory', shared: false, url: async () => 'memory:' },
  { name: 'sqlite', shared: true, url: async () => `sqlite:${join(sqliteDir, 'limits.sqlite')}`, teardown: async () => rmSync(sqliteDir, { recursive: true, force: true }) },
  { name: 'redis', shared: true, url: async () => 'redis://127.0.0.1:6379' },
  {
    name: 'redis-cluster', shared: true,
    url: async () => (await (cluster ??= startRedisCluster())).url,
    teardown: async () => (await cluster?.catch(() => undefined))?.stop(),
  },
  { name: 'postgres', shared: true, url: async () => 'postgres://postgres@127.0.0.1:5432/test' },
];

for (const backend of backends) {
  describe(`rate limits on ${backend.name}`, function () {
    this.timeout(30_000);
    const opened: Array<{ limits: RateLimiters; close(): Promise<void> }> = [];
    let url: string;
    let namespace: string;

    async function node(ns = namespace, calls?: string[]): Promise<RateLimiters> {
      const { connection, close } = await limiterConnectionOf(url);
      const backend = await openLimiterBackend(connection, ns);
      const limits = createRateLimiters({ settings, backend: calls ? watched(backend, calls) : backend, logger: createMemoryLogger('error') });
      opened.push({ limits, close });
      return limits;
    }

    before(async function () {
      try {
        url = await backend.url();
      } catch (error) {
        if (backend.name === 'redis-cluster' && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          console.warn('    redis-server binary not found: Redis Cluster rate limits not run');
          this.skip();
        }
        throw error;
      }
    });
    beforeEach(() => {
      namespace = `rl${Math.random().toString(36).slice(2, 10)}`;
    });
    afterEach(async () => {
      for (const { limits, close } of opened.splice(0)) {
        await limits.close();
        await close();
      }
    });
    after(async () => backend.teardown?.());

    it('allows `points` requests in the window, then refuses with the seconds to wait', async () => {
      const limits = await node();
      for (let i = 0; i < 3; i += 1) assert.equal((await limits.hit('client.token', 'app-1')).allowed, true);
      const refused = await limits.hit('client.token', 'app-1');
      assert.equal(refused.allowed, false);
      assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
      // Another key and another limit count apart.
      assert.equal((await limits.hit('client.token', 'app-2')).allowed, true);
      assert.equal((await limits.hit('client.userinfo', 'app-1')).allowed, true);
    });

    it('blocks a key after a few failures, for blockSeconds, before anything is counted', async () => {
      const limits = await node();
      assert.equal((await limits.blocked('failure.clientSecretPerClient', 'app-1')).allowed, true);
      assert.equal((await limits.failed('failure.clientSecretPerClient', 'app-1')).allowed, true);
      assert.equal((await limits.failed('failure.clientSecretPerClient', 'app-1')).allowed, true);
      assert.equal((await limits.blocked('failure.clientSecretPerClient', 'app-1')).allowed, true);
      const third = await limits.failed('failure.clientSecretPerClient', 'app-1');
      assert.equal(third.allowed, false);
      const blocked = await limits.blocked('failure.clientSecretPerClient', 'app-1');
      assert.ok(!blocked.allowed && blocked.retryAfterSeconds > 60, 'blocked for blockSeconds, beyond the window');
      assert.equal((await limits.blocked('failure.clientSecretPerClient', 'app-2')).allowed, true);
    });

    it(backend.shared ? 'a second node sees the first one\'s count, within a sync interval' : 'counts in this process only', async () => {
      const first = await node();
      const second = await node();
      for (let i = 0; i < 3; i += 1) assert.equal((await first.hit('address.authorization', '192.0.2.1')).allowed, true);
      if (!backend.shared) {
        assert.equal((await second.hit('address.authorization', '192.0.2.1')).allowed, true);
        return;
      }
      // A key new to the second node is let through and pushed; the push answers with the shared
      // count. Asked a sync interval apart, the second node refuses before its own count (3 asks
      // at most, the limit being 3) could refuse: it refuses on the first node's count.
      const asks = await eventually(async () => !(await second.hit('address.authorization', '192.0.2.1')).allowed, 1_000, syncIntervalMs + 50);
      assert.ok(asks >= 1 && asks <= 3, `refused after ${asks} asks`);
      const refused = await second.hit('address.authorization', '192.0.2.1');
      assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60, 'until the end of the shared window');
      if (backend.name === 'redis') {
        // Every counter the pushes wrote ends with its window.
        const client = createClient({ url });
        await client.connect();
        try {
          const keys = await client.keys(`${namespace}:rl:*`);
          assert.ok(keys.length > 0);
          for (const key of keys) {
            const ttl = await client.pTTL(key);
            assert.ok(ttl > 0 && ttl <= 60_000, `${key}: ${ttl}`);
          }
        } finally {
          client.destroy();
        }
      }
    });

    if (backend.shared) {
      it('a block started on one node is seen on another within about a second, without counting there', async () => {
        const a = await node();
        const b = await node();
        // The second node knows the key (read once, then served from its view and kept fresh).
        assert.equal((await b.blocked('failure.operatorKeyPerAddress', '192.0.2.9')).allowed, true);
        for (let i = 0; i < 2; i += 1) assert.equal((await a.failed('failure.operatorKeyPerAddress', '192.0.2.9')).allowed, true);
        assert.equal((await a.failed('failure.operatorKeyPerAddress', '192.0.2.9')).allowed, false);
        const started = Date.now();
        const asks = await eventually(async () => !(await b.blocked('failure.operatorKeyPerAddress', '192.0.2.9')).allowed, 1_000, 20);
        assert.ok(asks > 0, 'the second node still lets the address through after a second');
        assert.ok(Date.now() - started < 1_000);
        const blocked = await b.blocked('failure.operatorKeyPerAddress', '192.0.2.9');
        assert.ok(!blocked.allowed && blocked.retryAfterSeconds > 60, 'blocked for blockSeconds');
      });

      it('closing pushes the points counted on the node', async () => {
        const a = await node();
        for (let i = 0; i < 4; i += 1) await a.hit('person.login', 'subject-2');
        await a.close();
        const b = await node();
        // Nothing counted here: the shared count alone is over the limit.
        assert.equal((await b.blocked('person.login', 'subject-2')).allowed, false);
      });
    }

    it('a request on a key the node knows asks nothing of the store: no store call on the request path', async () => {
      const calls: string[] = [];
      const limits = await node(namespace, calls);
      await limits.hit('client.userinfo', 'app-1');
      await limits.blocked('failure.clientSecretPerClient', 'app-1');
      await limits.sync();
      const before = calls.length;
      for (let i = 0; i < 50; i += 1) {
        assert.equal((await limits.hit('client.userinfo', 'app-1')).allowed, i < 2, `hit ${i}`);
        assert.equal((await limits.blocked('failure.clientSecretPerClient', 'app-1')).allowed, true);
      }
      assert.deepEqual(calls.slice(before), [], 'store calls while answering requests');
      // The points are pushed in the background: one consume for all of them.
      await limits.sync();
      assert.deepEqual(calls.slice(before).filter((call) => call.endsWith('.consume')), ['client.userinfo.consume']);
    });

    it('keeps deployments sharing a server apart by namespace', async () => {
      const one = await node();
      const other = await node(`${namespace}x`);
      for (let i = 0; i < 3; i += 1) await one.hit('person.login', 'subject-1');
      assert.equal((await one.hit('person.login', 'subject-1')).allowed, false);
      assert.equal((await other.hit('person.login', 'subject-1')).allowed, true);
    });

    it('counts nothing when disabled', async () => {
      const { connection, close } = await limiterConnectionOf(url);
      const limits = createRateLimiters({ settings: { ...settings, enabled: false }, backend: await openLimiterBackend(connection, namespace), logger: createMemoryLogger('error') });
      opened.push({ limits, close });
      for (let i = 0; i < 10; i += 1) assert.equal((await limits.hit('client.token', 'app-1')).allowed, true);
    });
  });
}

describe('rate limits: a node\'s views', function () {
  this.timeout(30_000);

  it('hold a bounded number of keys whatever the number of addresses; a key dropped still has its points pushed', async () => {
    const { connection } = await limiterConnectionOf('memory:');
    const limits = createRateLimiters({ settings, backend: await openLimiterBackend(connection, 'bounded'), logger: createMemoryLogger('error') });
    try {
      for (let i = 0; i < 4; i += 1) await limits.hit('address.interactions', '192.0.2.200');
      for (let i = 0; i < 3 * maxKeysPerLimit; i += 1) await limits.hit('address.interactions', `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      assert.ok(limits.heldKeys() <= maxKeysPerLimit, `${limits.heldKeys()} keys held`);
      // A made-up client id of kilobytes is held by its hash, and counts like any other.
      const long = 'x'.repeat(8_000);
      const verdicts = [];
      for (let i = 0; i < 4; i += 1) verdicts.push((await limits.hit('client.token', long)).allowed);
      assert.deepEqual(verdicts, [true, true, true, false]);
      await limits.sync();
      // Dropped from the view long ago, its count is read back from the store.
      assert.equal((await limits.blocked('address.interactions', '192.0.2.200')).allowed, false);
    } finally {
      await limits.close();
    }
  });

  it('a failing store lets every request through, and says so in the log', async () => {
    const logger = createMemoryLogger('warn');
    const { connection } = await limiterConnectionOf('memory:');
    const calls: string[] = [];
    const backend = watched(await openLimiterBackend(connection, 'failing'), calls, new Error('connection lost'));
    const limits = createRateLimiters({ settings, backend, logger });
    try {
      for (let round = 0; round < 3; round += 1) {
        for (let i = 0; i < 3; i += 1) assert.equal((await limits.hit('client.token', 'app-1')).allowed, true);
        await limits.sync();
      }
      for (let i = 0; i < 5; i += 1) {
        assert.equal((await limits.failed('failure.clientSecretPerClient', 'app-1')).allowed, true);
        assert.equal((await limits.blocked('failure.clientSecretPerClient', 'app-1')).allowed, true);
      }
      assert.ok(calls.length > 0);
      const warned = logger.lines.filter((line) => line.event === 'rate_limit.unavailable');
      assert.ok(warned.some((line) => line.limit === 'client.token' && line.reason === 'connection lost'), JSON.stringify(logger.lines));
      assert.ok(warned.some((line) => line.limit === 'failure.clientSecretPerClient'));
    } finally {
      await limits.close();
    }
  });
});
