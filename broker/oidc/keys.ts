/**
 * Signing keys, cookie keys and the subject secret. All nodes must use the same ones, so in
 * development they are generated once into the store (under ./data with the default SQLite store)
 * and read back by every node; production takes them from configuration and never generates.
 *
 * Signing keys rotate without downtime (see key-ring.ts): each node re-reads the key ring every
 * `keys.refreshSeconds` and applies a changed ring to its running provider.
 */
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { JWK } from 'jose';
import { tunables, type TongbanConfig } from '../../config/defaults.ts';
import { ErrorCode, tongbanError, type TongbanError } from '../platform/errors.ts';
import {
  fileKeyRingSource, fingerprint, initialRing, newGeneration, publishedKeys, storeKeyRingSource,
  type KeyRing, type KeyRingSource, type RotationPolicy,
} from './key-ring.ts';
import type { Logger } from '../platform/log.ts';
import { replaceSigningKeys } from './keystore.ts';
import { createResourceServerRecords } from '../resources/records.ts';
import type { Store } from '../platform/storage/types.ts';

export interface BrokerKeys {
  /** Private JWKs in published order: the first key of each algorithm signs (ES256 is the default). */
  readonly signing: JWK[];
  readonly cookieKeys: string[];
  readonly subjectSecret: string;
  /** Where the signing keys are kept and re-read from. */
  readonly source: KeyRingSource;
  /** The ring the signing keys came from. */
  readonly ring: KeyRing;
  /**
   * Writes this node's ring (and, in development, its cookie keys and subject secret) back to a
   * store that lost them, unless another node did first. Resolves with whether this node did.
   */
  restore(ring: KeyRing): Promise<boolean>;
}

interface StoredMaterial {
  /** The first generation's keys; later generations live in the key ring record. */
  readonly signing: JWK[];
  readonly cookieKeys: string[];
  readonly subjectSecret: string;
}

const record = 'keys:material';
const generationClaim = 'keys:generating';

function keysError(detail: string): TongbanError {
  return tongbanError('keys_unusable', { params: { reason: detail }, detail });
}

async function waitFor<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  // Another node is writing it: wait for its result.
  for (let i = 0; i < 100; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const value = await read();
    if (value !== undefined) return value;
  }
  throw keysError(`another node claimed ${what} but never stored it`);
}

async function readRing(source: KeyRingSource): Promise<KeyRing> {
  try {
    const ring = await source.read();
    if (ring) return ring;
  } catch (error) {
    throw keysError(`keys.signingKeysFile ${source.location} cannot be used (${(error as Error).message.split('\n')[0]})`);
  }
  throw keysError(`no signing keys in ${source.location}`);
}

/**
 * Lifetimes that bound rotation. A retired key must have signed nothing still valid: ID tokens, the
 * default JWT access tokens, and every resource server's own JWT access tokens (`resourceTtlSeconds`:
 * the registered ones, see `rotationPolicyOf`; the configured ones are read here too). Logout tokens
 * are not counted: each delivery attempt signs a fresh one, so a retry after retirement recovers.
 */
export function rotationPolicy(config: TongbanConfig, resourceTtlSeconds: readonly number[] = []): RotationPolicy {
  const configured = (config.resources ?? []).map((r) => r.accessTokenTtl ?? 0);
  const longestSeconds = Math.max(config.ttl.idToken, config.ttl.accessToken, ...configured, ...resourceTtlSeconds);
  return {
    publishDelayMs: 2 * config.keys.refreshSeconds * 1000,
    maxTokenLifetimeMs: (longestSeconds + tunables.clockToleranceSeconds) * 1000,
  };
}

/** Where this configuration keeps its signing keys. */
export function keyRingSourceOf(config: TongbanConfig, store: Store): KeyRingSource {
  return config.keys.signingKeysFile ? fileKeyRingSource(config.keys.signingKeysFile) : storeKeyRingSource(store);
}

/** The rotation policy with the lifetimes of every resource server registered in `store`. */
export async function rotationPolicyOf(config: TongbanConfig, store: Store): Promise<RotationPolicy> {
  const registered = await createResourceServerRecords({ store }).list();
  return rotationPolicy(config, registered.map((r) => r.accessTokenTtl));
}

/** Loads the keys for this node, generating development keys into the store the first time. */
export async function loadKeys(config: TongbanConfig, store: Store, logger: Logger): Promise<BrokerKeys> {
  const { cookieKeys, subjectSecret } = config.keys;
  const source = keyRingSourceOf(config, store);
  if (config.mode === 'production') {
    const ring = await readRing(source);
    return {
      signing: publishedKeys(ring),
      cookieKeys: [...cookieKeys!],
      subjectSecret: subjectSecret!,
      source,
      ring,
      restore: async () => false,
    };
  }
  let stored = await store.get<StoredMaterial>(record);
  if (!stored) {
    if (await store.claim(generationClaim, tunables.keyGenerationClaimMs)) {
      stored = {
        signing: [...(await newGeneration()).keys],
        cookieKeys: [randomBytes(32).toString('base64url')],
        subjectSecret: randomBytes(32).toString('base64url'),
      };
      await store.set(record, stored);
      logger.info('keys_generated', { keys: stored.signing.length });
    } else {
      stored = await waitFor(() => store.get<StoredMaterial>(record), 'key generation');
    }
  }
  let ring: KeyRing | undefined;
  if (source.kind === 'file') {
    ring = await readRing(source);
  } else {
    ring = await source.read();
    if (!ring) {
      // Stores written before rotation existed hold the first generation in the material only.
      const initial = initialRing(stored.signing);
      ring = (await source.write(initial, undefined)) ? initial : await waitFor(() => source.read(), 'the key ring');
    }
  }
  const material = stored;
  return {
    signing: publishedKeys(ring),
    cookieKeys: cookieKeys?.length ? [...cookieKeys] : stored.cookieKeys,
    subjectSecret: subjectSecret ?? stored.subjectSecret,
    source,
    ring,
    async restore(current) {
      if (source.kind !== 'store') return false;
      if (!(await source.write(current, undefined))) return false;
      if (!(await store.get(record))) await store.set(record, material);
      return true;
    },
  };
}

export interface SigningKeyWatch {
  /** Reads the ring now and applies it if it changed; resolves with whether it did. */
  refresh(): Promise<boolean>;
  /** The ring this node signs with. */
  readonly ring: KeyRing;
  stop(): void;
}

/**
 * Keeps the provider's signing keys in step with the key ring: polls every `intervalMs`, applies a
 * changed ring at once. A store that lost the ring (a Redis restarted without persistence) gets
 * this node's ring written back, so a node started later does not generate keys of its own.
 */
export function watchSigningKeys(options: {
  readonly provider: Provider;
  readonly keys: BrokerKeys;
  readonly logger: Logger;
  readonly intervalMs: number;
}): SigningKeyWatch {
  const { provider, keys, logger } = options;
  let ring = keys.ring;
  let applied = fingerprint(ring);
  let failing = false;
  let running: Promise<boolean> | undefined;

  async function check(): Promise<boolean> {
    let latest: KeyRing | undefined;
    try {
      latest = await keys.source.read();
    } catch (error) {
      if (!failing) logger.warn('signing_keys_unreadable', { code: ErrorCode.storeUnavailable, reason: (error as Error).name });
      failing = true;
      return false;
    }
    failing = false;
    if (!latest) {
      if (await keys.restore(ring).catch(() => false)) {
        logger.warn('keys_restored', { version: ring.version, reason: 'the store had lost the keys' });
      }
      return false;
    }
    const latestFingerprint = fingerprint(latest);
    if (latestFingerprint === applied) return false;
    replaceSigningKeys(provider, publishedKeys(latest));
    ring = latest;
    applied = latestFingerprint;
    const current = latest.generations.find((g) => g.state === 'current');
    logger.info('signing_keys_applied', { version: latest.version, current: current?.id, generations: latest.generations.length });
    return true;
  }

  const refresh = () => {
    running ??= check().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    refresh().catch(() => undefined);
  }, options.intervalMs);
  timer.unref();
  return {
    refresh,
    get ring() {
      return ring;
    },
    stop: () => clearInterval(timer),
  };
}
