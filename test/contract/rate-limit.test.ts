/**
 * The rate limits' contract, run against every backend the store can be: memory, SQLite, Redis,
 * Redis Cluster (a throwaway one, from the redis-server binary) and PostgreSQL. Two connections
 * stand for two broker nodes: on a shared backend the second sees the first one's count.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RateLimit, RateLimits } from '../../config/defaults.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { createRateLimiters, limiterConnectionOf, openLimiterBackend, type RateLimiters } from '../../broker/platform/rate-limit/index.ts';
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

    async function node(ns = namespace): Promise<RateLimiters> {
      const { connection, close } = await limiterConnectionOf(url);
      const limits = createRateLimiters({ settings, backend: await openLimiterBackend(connection, ns), logger: createMemoryLogger('error') });
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

    it(backend.shared ? 'a second node sees the first one\'s count' : 'counts in this process only', async () => {
      const first = await node();
      const second = await node();
      for (let i = 0; i < 3; i += 1) assert.equal((await first.hit('address.authorization', '192.0.2.1')).allowed, true);
      assert.equal((await second.hit('address.authorization', '192.0.2.1')).allowed, !backend.shared);
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
