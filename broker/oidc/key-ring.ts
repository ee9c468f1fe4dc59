/**
 * The signing key ring and its rotation. Keys come in generations (one ES256 and one RS256 key
 * each) that move through three states:
 *
 * - `next`: published in JWKS, not used yet, so every relying service can fetch it before it
 *   sees a token signed with it;
 * - `current`: signs (the first key of each algorithm in the published list signs);
 * - `previous`: published only, until every token it signed has expired; then it may be retired.
 *
 * The ring lives either in the store (development: shared by every node) or in the signing keys
 * file (production); both are read the same way and carry a version, so a writer that raced
 * another one fails instead of overwriting it.
 *
 * @example
 * const source = storeKeyRingSource(store);
 * const ring = await source.read();
 * await source.write(rotate(ring!, await newGeneration(), Date.now()), ring!.version);
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Store } from '../platform/storage/types.ts';

export type GenerationState = 'next' | 'current' | 'previous';

export interface KeyGeneration {
  readonly id: string;
  readonly state: GenerationState;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly promotedAt?: number;
  /** When it stopped signing: it may be retired once the longest token lifetime has passed since. */
  readonly demotedAt?: number;
  /** Private JWKs (with `kid`, `alg`, `use`), ES256 first. */
  readonly keys: readonly JWK[];
}

export interface KeyRing {
  /** Increases with every change; a write names the version it replaces. */
  readonly version: number;
  readonly generations: readonly KeyGeneration[];
}

export interface RotationPolicy {
  /** How long a `next` generation is published before it may sign (nodes poll every refresh interval). */
  readonly publishDelayMs: number;
  /** Longest lifetime of anything signed (ID tokens, JWT access tokens) plus clock tolerance. */
  readonly maxTokenLifetimeMs: number;
}

/** A rotation step the ring's state does not allow (yet); the message says why. */
export class KeyRotationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRotationRefused';
  }
}

const algorithms = ['ES256', 'RS256'] as const;

export async function newGeneration(now = Date.now()): Promise<KeyGeneration> {
  const id = `${new Date(now).toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
  const keys: JWK[] = [];
  for (const alg of algorithms) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${id}` });
  }
  return { id, state: 'current', createdAt: now, keys };
}

/** A one-generation ring around keys that had no ring yet (older stores, plain JWKS files). */
export function initialRing(keys: readonly JWK[], now = Date.now()): KeyRing {
  return { version: 1, generations: [{ id: 'initial', state: 'current', createdAt: now, keys: [...keys] }] };
}

const order: Record<GenerationState, number> = { current: 0, next: 1, previous: 2 };

/**
 * Every key to load into the provider, in the order that makes the current generation sign:
 * current, next, then previous generations from the most recently demoted.
 */
export function publishedKeys(ring: KeyRing): JWK[] {
  return [...ring.generations]
    .sort((a, b) => order[a.state] - order[b.state] || (b.demotedAt ?? 0) - (a.demotedAt ?? 0))
    .flatMap((generation) => generation.keys.map((key) => ({ ...key })));
}

/** Identifies what a node has applied: the states and kids, not the version alone (files may be edited by hand). */
export function fingerprint(ring: KeyRing): string {
  return JSON.stringify(ring.generations.map((g) => [g.id, g.state, g.keys.map((k) => k.kid)]));
}

export function rotate(ring: KeyRing, generation: KeyGeneration, now = Date.now()): KeyRing {
  const pending = ring.generations.find((g) => g.state === 'next');
  if (pending) throw new KeyRotationRefused(`generation ${pending.id} is already waiting to be promoted; promote it first`);
  return {
    version: ring.version + 1,
    generations: [...ring.generations, { ...generation, state: 'next', createdAt: now }],
  };
}

export function promote(ring: KeyRing, policy: RotationPolicy, options: { now?: number; force?: boolean } = {}): KeyRing {
  const now = options.now ?? Date.now();
  const next = ring.generations.find((g) => g.state === 'next');
  if (!next) throw new KeyRotationRefused('there is no next generation to promote: run rotate first');
  const publishedFor = now - next.createdAt;
  if (!options.force && publishedFor < policy.publishDelayMs) {
    throw new KeyRotationRefused(`generation ${next.id} has been published for ${Math.floor(publishedFor / 1000)} s only; `
      + `every node picks it up within ${Math.ceil(policy.publishDelayMs / 1000)} s (--force to promote anyway)`);
  }
  return {
    version: ring.version + 1,
    generations: ring.generations.map((g): KeyGeneration => {
      if (g === next) return { ...g, state: 'current', promotedAt: now };
      if (g.state === 'current') return { ...g, state: 'previous', demotedAt: now };
      return g;
    }),
  };
}

/** When a previous generation may be retired: the last token it signed has expired by then. */
export function retirableAt(generation: KeyGeneration, policy: RotationPolicy): number | undefined {
  if (generation.state !== 'previous') return undefined;
  return (generation.demotedAt ?? 0) + policy.maxTokenLifetimeMs;
}

/**
 * Removes previous generations whose tokens have all expired (or the one named by `id`, with
 * `force` even before that). Returns the new ring and what was removed.
 */
export function retire(ring: KeyRing, policy: RotationPolicy, options: { now?: number; force?: boolean; id?: string } = {}): { ring: KeyRing; retired: KeyGeneration[] } {
  const now = options.now ?? Date.now();
  const candidates = ring.generations.filter((g) => g.state === 'previous' && (options.id === undefined || g.id === options.id));
  if (options.id !== undefined && candidates.length === 0) {
    throw new KeyRotationRefused(`no previous generation ${options.id} (only previous generations can be retired)`);
  }
  const retired = candidates.filter((g) => options.force || now >= retirableAt(g, policy)!);
  if (retired.length === 0) {
    const soonest = Math.min(...candidates.map((g) => retirableAt(g, policy)!));
    throw new KeyRotationRefused(candidates.length === 0
      ? 'there is no previous generation to retire'
      : `tokens signed by the previous generation may still be valid until ${new Date(soonest).toISOString()} (--force to retire anyway)`);
  }
  return {
    ring: { version: ring.version + 1, generations: ring.generations.filter((g) => !retired.includes(g)) },
    retired,
  };
}

export interface KeyRingSource {
  readonly kind: 'store' | 'file';
  /** Where the ring is kept, for messages. */
  readonly location: string;
  read(): Promise<KeyRing | undefined>;
  /** Writes `ring` if the stored ring is still at `replacing` (undefined: none yet); false if another writer came first. */
  write(ring: KeyRing, replacing: number | undefined): Promise<boolean>;
}

export const ringRecord = 'keys:ring';
const versionClaim = (replacing: number | undefined) => `keys:ring-replaces:${replacing ?? 'none'}`;
const versionClaimTtlMs = 30 * 24 * 3600 * 1000;

function isRing(value: unknown): value is KeyRing {
  const ring = value as KeyRing | undefined;
  return typeof ring?.version === 'number' && Array.isArray(ring.generations)
    && ring.generations.every((g) => typeof g?.id === 'string' && Array.isArray(g.keys) && g.state in order);
}

/** The ring in the store, shared by every node (development mode). */
export function storeKeyRingSource(store: Store): KeyRingSource {
  return {
    kind: 'store',
    location: `the ${store.kind} store`,
    async read() {
      const ring = await store.get<unknown>(ringRecord);
      return isRing(ring) ? ring : undefined;
    },
    async write(ring, replacing) {
      // One writer per version: the claim decides, the record follows.
      if (!(await store.claim(versionClaim(replacing), versionClaimTtlMs))) return false;
      await store.set(ringRecord, ring);
      return true;
    },
  };
}

/**
 * The ring in the signing keys file: a JWKS (`keys`, in published order, so the file works as a
 * plain JWKS too) with a `tongban` member holding the version and the generations' states. A plain
 * JWKS without it reads as one current generation.
 */
export function fileKeyRingSource(path: string): KeyRingSource {
  interface FileForm {
    keys: JWK[];
    tongban?: { version: number; generations: Array<Omit<KeyGeneration, 'keys'> & { kids: string[] }> };
  }
  const parse = (text: string): KeyRing => {
    const parsed = JSON.parse(text) as FileForm;
    if (!Array.isArray(parsed?.keys) || parsed.keys.length === 0) throw new Error(`${path} must hold a JWKS with at least one key`);
    for (const key of parsed.keys) {
      if (!key.d || !key.kid) throw new Error(`${path}: every key needs a private part (d) and a kid`);
    }
    if (!parsed.tongban) return { ...initialRing(parsed.keys, 0), version: 0 };
    const byKid = new Map(parsed.keys.map((key) => [key.kid!, key]));
    const generations = parsed.tongban.generations.map(({ kids, ...generation }) => ({
      ...generation,
      keys: kids.map((kid) => {
        const key = byKid.get(kid);
        if (!key) throw new Error(`${path}: generation ${generation.id} names key ${kid}, which is not in keys`);
        return key;
      }),
    }));
    const ring = { version: parsed.tongban.version, generations };
    if (!isRing(ring)) throw new Error(`${path}: the tongban member is not a key ring`);
    return ring;
  };
  return {
    kind: 'file',
    location: path,
    async read() {
      return parse(await readFile(path, 'utf8'));
    },
    async write(ring, replacing) {
      const current = parse(await readFile(path, 'utf8'));
      if (current.version !== (replacing ?? 0)) return false;
      const form: FileForm = {
        keys: publishedKeys(ring),
        tongban: {
          version: ring.version,
          generations: ring.generations.map(({ keys, ...generation }) => ({ ...generation, kids: keys.map((k) => k.kid!) })),
        },
      };
      // Written beside the file and renamed over it: a node never reads half a file.
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(form, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, path);
      return true;
    },
  };
}

/** The operator commands of scripts/keys.ts. */
export const keysUsage = 'usage: npm run keys -- <list|rotate|promote|retire|rotate-data-key> [--force] [--id <generation>] [--json]';

interface GenerationView {
  readonly id: string;
  readonly state: string;
  readonly kids: string[];
  readonly createdAt: string;
  readonly promotedAt?: string;
  readonly demotedAt?: string;
  readonly retirableAt?: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function describeRing(ring: KeyRing, policy: RotationPolicy): { version: number; generations: GenerationView[] } {
  return {
    version: ring.version,
    generations: ring.generations.map((g) => ({
      id: g.id,
      state: g.state,
      kids: g.keys.map((k) => k.kid!),
      createdAt: iso(g.createdAt)!,
      ...(g.promotedAt ? { promotedAt: iso(g.promotedAt) } : {}),
      ...(g.demotedAt ? { demotedAt: iso(g.demotedAt) } : {}),
      ...(g.state === 'previous' ? { retirableAt: iso(retirableAt(g, policy)) } : {}),
    })),
  };
}

export interface KeysCommandResult {
  readonly ring: KeyRing;
  readonly message: string;
}

/** Runs one command against a key ring source; throws KeyRotationRefused when the ring does not allow it. */
export async function runKeysCommand(command: string, source: KeyRingSource, policy: RotationPolicy, options: { force?: boolean; id?: string } = {}): Promise<KeysCommandResult> {
  const ring = await source.read();
  if (!ring) throw new KeyRotationRefused(`no key ring in ${source.location} yet: start a broker node once first`);
  let next: KeyRing;
  let message: string;
  switch (command) {
    case 'list':
      return { ring, message: '' };
    case 'rotate': {
      const generation = await newGeneration();
      next = rotate(ring, generation);
      message = `generation ${generation.id} added as next: published now, promote it once every node has picked it up`;
      break;
    }
    case 'promote':
      next = promote(ring, policy, { force: options.force ?? false });
      message = `generation ${next.generations.find((g) => g.state === 'current')!.id} now signs`;
      break;
    case 'retire': {
      const result = retire(ring, policy, { force: options.force ?? false, ...(options.id ? { id: options.id } : {}) });
      next = result.ring;
      message = `retired ${result.retired.map((g) => g.id).join(', ')}`;
      break;
    }
    default:
      throw new KeyRotationRefused(`unknown command "${command}"\n${keysUsage}`);
  }
  if (!(await source.write(next, ring.version))) {
    throw new KeyRotationRefused('the key ring changed meanwhile (another operator?); run the command again');
  }
  return { ring: next, message };
}

