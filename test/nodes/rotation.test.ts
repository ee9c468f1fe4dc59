/**
 * Signing key rotation without downtime: `npm run keys -- rotate | promote | retire` against the
 * key ring the running nodes poll. A new generation is published before it signs; the old one stays
 * published until every token it signed has expired; tokens from before, during and after verify.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { createBroker, type Broker } from '../../broker/broker.ts';
import {
  fileKeyRingSource, initialRing, KeyRotationRefused, newGeneration, promote, publishedKeys, retire, rotate, runKeysCommand,
  type KeyRing, type RotationPolicy,
} from '../../broker/oidc/key-ring.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';
import { loadConfig } from '../../config/load.ts';
import { Browser } from '../support/browser.ts';
import { login } from '../support/federation.ts';
import { eventually, newNamespace, portal, redisUrl, startNodeFederation, deleteNamespace, type NodeFederation } from '../support/nodes.ts';
import { runScript } from '../../scripts/dev/processes.ts';
import { openAuditTrail } from '../../broker/audit/index.ts';
import { createStore } from '../../broker/platform/storage/index.ts';

const policy: RotationPolicy = { publishDelayMs: 10_000, maxTokenLifetimeMs: 60_000 };

describe('key ring', () => {
  let ring: KeyRing;
  before(async () => {
    ring = initialRing((await newGeneration(0)).keys, 0);
  });

  it('publishes current first, then next, then previous generations', async () => {
    const next = rotate(ring, await newGeneration(), 1_000);
    assert.equal(next.version, ring.version + 1);
    const kids = publishedKeys(next).map((k) => k.kid);
    const [current, upcoming] = [next.generations[0]!, next.generations[1]!];
    assert.deepEqual(kids, [...current.keys, ...upcoming.keys].map((k) => k.kid));
    const promoted = promote(next, policy, { now: 20_000 });
    assert.deepEqual(publishedKeys(promoted).map((k) => k.kid), [...upcoming.keys, ...current.keys].map((k) => k.kid));
    assert.equal(promoted.generations.find((g) => g.id === current.id)?.state, 'previous');
  });

  it('refuses a second rotation, an early promotion and an early retirement (unless forced)', async () => {
    const next = rotate(ring, await newGeneration(), 1_000);
    await assert.rejects(async () => rotate(next, await newGeneration(), 2_000), KeyRotationRefused);
    assert.throws(() => promote(next, policy, { now: 5_000 }), KeyRotationRefused);
    assert.throws(() => promote(ring, policy, { now: 50_000 }), /no next generation/);
    const promoted = promote(next, policy, { now: 5_000, force: true });
    assert.throws(() => retire(promoted, policy, { now: 30_000 }), /may still be valid until/);
    const { ring: retired, retired: gone } = retire(promoted, policy, { now: 5_000 + 60_000 });
    assert.deepEqual(gone.map((g) => g.id), [ring.generations[0]!.id]);
    assert.deepEqual(retired.generations.map((g) => g.state), ['current']);
    assert.throws(() => retire(retired, policy, { now: 1e12 }), /no previous generation/);
  });
});

async function publicKids(url: string): Promise<string[]> {
  const jwks = await (await fetch(`${url}/jwks`)).json() as JSONWebKeySet;
  return jwks.keys.map((k) => k.kid!);
}

/** Verifies the signature against what `url` publishes now, at the token's own issue time. */
async function verifiesAt(url: string, token: string, issuer: string): Promise<void> {
  const jwks = await (await fetch(`${url}/jwks`)).json() as JSONWebKeySet;
  const { iat } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number };
  await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: portal.client_id, currentDate: new Date(iat * 1000) });
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

describe('key rotation across two running nodes (store key ring, Redis)', function () {
  this.timeout(60_000);
  let federation: NodeFederation;
  const keys = (args: string[]) => runScript('scripts/cli/keys.ts', [...args, '--json'], { config: federation.config });

  before(async () => {
    federation = await startNodeFederation({
      store: redisUrl,
      nodes: 2,
      // Short lifetimes so that retirement is allowed within the test: 3 s + 5 s clock tolerance.
      config: { keys: { refreshSeconds: 1 }, ttl: { idToken: 3, accessToken: 3 } },
    });
  });
  after(async () => federation?.stop());

  /** Logs in with the token request on node `n`; returns the tokens. */
  async function tokensFrom(n: number) {
    federation.balancer.route = (request, count) => (request.url?.startsWith('/token') ? n : count % 2);
    return (await login(new Browser(), federation.rp, 'zhangsan')).tokens;
  }

  it('publishes, then signs with, then retires: tokens from before, during and after all verify', async () => {
    const { nodes, issuer } = federation;
    const before = await tokensFrom(0);
    const oldKid = kidOf(before.id_token!);

    const rotated = await keys(['rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const next = (JSON.parse(rotated.stdout) as { generations: Array<{ id: string; state: string; kids: string[] }> })
      .generations.find((g) => g.state === 'next')!;
    const newKid = next.kids.find((kid) => kid.startsWith('es256'))!;
    // Published by every node before any of them signs with it.
    await eventually(async () => (await Promise.all(nodes.map((n) => publicKids(n.url)))).every((kids) => kids.includes(newKid)), 10_000, 'the next key published by every node');
    const during = await tokensFrom(1);
    assert.equal(kidOf(during.id_token!), oldKid, 'a next key does not sign');

    const early = await keys(['retire']);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /no previous generation/);

    // Promotion waits for the publication delay (2 × refreshSeconds) on its own terms.
    const promoted = await eventually(async () => {
      const result = await keys(['promote']);
      return result.code === 0 ? result : undefined;
    }, 10_000, 'promotion', 500);
    assert.match(promoted.stderr, /now signs/);
    const after = await eventually(async () => {
      const [a, b] = [await tokensFrom(0), await tokensFrom(1)];
      return kidOf(a.id_token!) === newKid && kidOf(b.id_token!) === newKid ? [a, b] : undefined;
    }, 10_000, 'both nodes signing with the new key');

    // Everything verifies against every node: the old key is still published.
    for (const node of nodes) {
      for (const token of [before.id_token!, during.id_token!, after[0]!.id_token!]) await verifiesAt(node.url, token, issuer);
    }
    // A refresh token from before the rotation still works and brings an ID token of the new key.
    federation.balancer.route = (_request, count) => count % 2;
    const refreshed = await oidc.refreshTokenGrant(federation.rp.config, before.refresh_token!);
    assert.equal(kidOf(refreshed.id_token!), newKid);
    // An ID token of the old key is still a valid logout hint.
    const browser = new Browser();
    const { tokens: hinted } = await login(browser, federation.rp, 'lisi');
    const end = oidc.buildEndSessionUrl(federation.rp.config, { id_token_hint: during.id_token!, post_logout_redirect_uri: portal.post_logout_redirect_uris![0]! });
    assert.equal((await browser.follow(end)).status, 200);
    assert.ok(hinted.id_token);

    // Retirement is refused while tokens of the old key may be valid, then done.
    const refused = await keys(['retire']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /may still be valid until/);
    const retired = await eventually(async () => {
      const result = await keys(['retire']);
      return result.code === 0 ? result : undefined;
    }, 15_000, 'retirement', 1000);
    assert.match(retired.stderr, /retired/);
    // Each change of the ring is an admin entry of the audit trail, naming generations and kids only.
    const store = await createStore(redisUrl, { namespace: federation.namespace });
    try {
      const { trail } = await openAuditTrail({}, store);
      const changes = (await trail.list({ type: 'admin' })).filter((e) => e.details?.area === 'keys');
      assert.deepEqual(changes.map((e) => e.action), ['key.signing.rotate', 'key.signing.promote', 'key.signing.retire']);
      assert.ok(changes[0]!.details && JSON.stringify(changes[0]!.details).includes(newKid), 'the new kid named');
      assert.ok(changes.every((e) => e.actor?.startsWith('cli:') && !/"(d|p|q|dp|dq|qi|k)":/.test(JSON.stringify(e.details))), 'no key material');
    } finally {
      await store.close();
    }
    await eventually(async () => (await Promise.all(nodes.map((n) => publicKids(n.url)))).every((kids) => !kids.includes(oldKid) && kids.includes(newKid)), 10_000, 'the old key withdrawn by every node');
    for (const node of nodes) await verifiesAt(node.url, after[1]!.id_token!, issuer);
    await assert.rejects(verifiesAt(nodes[0]!.url, before.id_token!, issuer), /no applicable key|matching key/i);
  });
});

describe('signing keys from a file (production)', function () {
  this.timeout(30_000);
  let dir: string;
  let file: string;
  let broker: Broker;
  let url: string;
  const namespace = newNamespace();
  const config = () => ({
    mode: 'production',
    issuer: 'https://tongban.example.cn',
    listen: { host: '127.0.0.1', port: 0 },
    metrics: { listen: { host: '127.0.0.1', port: 0 } },
    store: redisUrl,
    storeNamespace: namespace,
    national: { issuer: 'https://national.example.cn', clientId: 'tongban', clientSecret: 'a-production-secret-of-some-length', timeoutMs: 2000 },
    keys: { signingKeysFile: file, cookieKeys: ['c'.repeat(32)], subjectSecret: 's'.repeat(32), dataKeys: [`d1:${Buffer.alloc(32, 1).toString('base64url')}`], refreshSeconds: 1 },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tongban-keys-'));
    file = join(dir, 'signing-keys.json');
    // A plain JWKS, as an operator would write it: no rotation state yet.
    const keys = [];
    for (const alg of ['ES256', 'RS256'] as const) {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `operator-${alg.toLowerCase()}` });
    }
    writeFileSync(file, JSON.stringify({ keys }));
    broker = await createBroker(loadConfig({ env: {}, overrides: config() as never }), { logger: createMemoryLogger() });
    url = await broker.start();
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
    await deleteNamespace(redisUrl, namespace);
  });

  it('serves the keys of a plain JWKS file, and rotates them in the file without a restart', async () => {
    assert.deepEqual(await publicKids(url), ['operator-es256', 'operator-rs256']);
    const jwks = await (await fetch(`${url}/jwks`)).json() as JSONWebKeySet;
    assert.ok(jwks.keys.every((key) => !('d' in key)), 'no private parts published');

    const rotated = await runScript('scripts/cli/keys.ts', ['rotate'], { config: config() });
    assert.equal(rotated.code, 0, rotated.stderr);
    // The node re-reads the file every second by itself; under load it may already have seen the
    // change, so the explicit refresh may find nothing new. What it publishes is what counts.
    await broker.refreshKeys();
    const published = await publicKids(url);
    assert.equal(published.length, 4);
    assert.deepEqual(published.slice(0, 2), ['operator-es256', 'operator-rs256'], 'the file keys still sign');

    const promoted = await runScript('scripts/cli/keys.ts', ['promote', '--force'], { config: config() });
    assert.equal(promoted.code, 0, promoted.stderr);
    await broker.refreshKeys();
    const after = await publicKids(url);
    assert.notEqual(after[0], 'operator-es256', 'the new generation signs first');
    assert.ok(after.includes('operator-es256'), 'the old key stays published');
    // The file is still a JWKS any tool can read, with the rotation state beside the keys.
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { keys: unknown[]; tongban: { generations: Array<{ state: string }> } };
    assert.equal(saved.keys.length, 4);
    assert.deepEqual(saved.tongban.generations.map((g) => g.state).sort(), ['current', 'previous']);
    const ring = await fileKeyRingSource(file).read();
    await assert.rejects(runKeysCommand('retire', fileKeyRingSource(file), { publishDelayMs: 0, maxTokenLifetimeMs: 3_600_000 }), /may still be valid/);
    assert.equal(ring?.generations.length, 2);
  });
});
