/**
 * The member records (cities, apps, operators, audit entries) in the shared store, safe with many
 * broker nodes and operator CLIs at once. The store keys keep their `registry:` prefix: stores
 * already in use hold them.
 *
 * - `registry:city:<code>`, `registry:app:<client_id>`, `registry:operator:<id>` hold the records;
 *   the sets `registry:cities`, `registry:apps:<city>` and `registry:operators` index them. Indexes
 *   are written before the record and removed after it, so the record write is the commit point and
 *   a stale index member (a crash in between) is simply skipped;
 * - every record carries a `revision`; a change claims `registry:revision:<key>:<n+1>` before it
 *   writes, so of two concurrent changes one wins and the other re-reads and tries again — no
 *   change is lost and nothing is half-applied;
 * - every change also writes a new `registry:version`. Each node keeps the apps it has read in a
 *   cache and re-reads that version at most every `refreshMs` (default one second): a change made
 *   anywhere is seen everywhere within that time, and at once on the node that made it;
 * - audit entries go to the broker's one hash-chained trail (broker/audit/store-trail.ts; the members view in audit-trail.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { storeAuditTrail } from '../audit/store-trail.ts';
import { memberAuditOn } from './audit-trail.ts';
import type { AuditTrail } from '../audit/trail.ts';
import type { Store } from '../platform/storage/types.ts';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import type { AuditEntry, InitialAccessTokenBinding, MemberApp, MemberCity, Operator } from './types.ts';

export interface MemberRecordsOptions {
  /** How often a node re-reads the records' version, milliseconds (default 1000). */
  readonly refreshMs?: number;
  /** The broker's audit trail; default the store's own (opened at first use). */
  readonly audit?: AuditTrail;
}

interface Revisioned {
  readonly revision: number;
}

export interface Change<T> {
  readonly before: T | undefined;
  readonly after: T | undefined;
}

export interface AuditQuery {
  readonly province?: string;
  readonly city?: string;
  readonly limit?: number;
}

export interface MemberRecords {
  readonly store: Store;
  city(code: string): Promise<MemberCity | undefined>;
  cities(): Promise<MemberCity[]>;
  /** An app; `fresh` skips the node's cache (credential checks). */
  app(clientId: string, options?: { readonly fresh?: boolean }): Promise<MemberApp | undefined>;
  appsOf(city: string): Promise<MemberApp[]>;
  /** How many apps a city has (records read, so an index entry left by an interrupted change is not counted). */
  appCount(city: string): Promise<number>;
  operator(id: string): Promise<Operator | undefined>;
  operators(): Promise<Operator[]>;

  createCity(city: MemberCity): Promise<void>;
  createApp(app: MemberApp): Promise<void>;
  createOperator(operator: Operator): Promise<void>;
  /** Applies `change` to the current app (re-read on conflict); it may throw to refuse. */
  updateApp(clientId: string, change: (current: MemberApp) => MemberApp | Promise<MemberApp>): Promise<Change<MemberApp>>;
  removeApp(clientId: string): Promise<MemberApp>;
  updateOperator(id: string, change: (current: Operator) => Operator | Promise<Operator>): Promise<Change<Operator>>;

  appendAudit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry>;
  audit(query?: AuditQuery): Promise<AuditEntry[]>;

  bindInitialAccessToken(value: string, binding: InitialAccessTokenBinding, ttlMs: number): Promise<void>;
  initialAccessTokenBinding(value: string): Promise<InitialAccessTokenBinding | undefined>;

  /** Whether the seed has been applied to this store. */
  seeded(): Promise<boolean>;
  markSeeded(count: number): Promise<void>;
}

const versionKey = 'registry:version';
const seededKey = 'registry:seeded';
const cityKey = (code: string) => `registry:city:${code}`;
const appKey = (clientId: string) => `registry:app:${clientId}`;
const operatorKey = (id: string) => `registry:operator:${id}`;
const citiesSet = 'registry:cities';
const appsSet = (city: string) => `registry:apps:${city}`;
const operatorsSet = 'registry:operators';
const iatKey = (value: string) => `registry:iat:${createHash('sha256').update(value).digest('base64url')}`;
const revisionClaim = (key: string, revision: number) => `registry:revision:${key}:${revision}`;
/** How long a revision claim lives: far longer than one change takes. */
const revisionClaimMs = 15_000;
const maxAttempts = 10;
const maxCachedApps = 10_000;

const newVersion = () => randomBytes(9).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function conflict(key: string): RegistryError {
  return new RegistryError(RegistryErrorCode.conflict, `${key.replace(/^registry:/, '')} is being changed by someone else; try again in a few seconds`);
}

export function createMemberRecords(store: Store, options: MemberRecordsOptions = {}): MemberRecords {
  const refreshMs = options.refreshMs ?? 1000;
  const audit = memberAuditOn(options.audit ?? storeAuditTrail(store));
  const cache = new Map<string, MemberApp>();
  let knownVersion: string | undefined;
  let checkedAt = 0;
  let checking: Promise<void> | undefined;
  // Bumped on every local write: a read that started before it must not fill the cache.
  let generation = 0;

  async function refresh(): Promise<void> {
    if (Date.now() - checkedAt < refreshMs) return;
    checking ??= (async () => {
      try {
        const version = await store.get<string>(versionKey);
        if (version !== knownVersion) {
          cache.clear();
          generation += 1;
          knownVersion = version;
        }
        checkedAt = Date.now();
      } finally {
        checking = undefined;
      }
    })();
    await checking;
  }

  async function bumpVersion(): Promise<void> {
    const version = newVersion();
    await store.set(versionKey, version);
    cache.clear();
    generation += 1;
    knownVersion = version;
    checkedAt = Date.now();
  }

  async function readAll<T>(setKey: string, keyOf: (member: string) => string): Promise<T[]> {
    const members = await store.members(setKey);
    const records = await store.getMany<T>(members.map(keyOf));
    return records.filter((r): r is Awaited<T> => r !== undefined) as T[];
  }

  /** A city's apps as indexed; a record that moved or vanished since is left out. */
  async function appsIn(city: string): Promise<MemberApp[]> {
    return (await readAll<MemberApp>(appsSet(city), appKey)).filter((app) => app.city === city);
  }

  async function create(key: string, record: Revisioned, index: { set: string; member: string }): Promise<void> {
    if (record.revision !== 1) throw new TypeError('a new record starts at revision 1');
    if (!(await store.claim(revisionClaim(key, 1), revisionClaimMs))) throw conflict(key);
    if ((await store.get(key)) !== undefined) {
      throw new RegistryError(RegistryErrorCode.conflict, `${key.replace(/^registry:/, '')} exists already`);
    }
    await store.addToSet(index.set, index.member);
    await store.set(key, record);
    await bumpVersion();
  }

  async function update<T extends Revisioned>(
    key: string,
    notFound: () => RegistryError,
    change: (current: T) => T | Promise<T> | null,
  ): Promise<Change<T>> {
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const current = await store.get<T>(key);
      if (!current) throw notFound();
      const changed = await change(current);
      const next = changed === null ? null : { ...changed, revision: current.revision + 1 };
      if (await store.claim(revisionClaim(key, current.revision + 1), revisionClaimMs)) {
        if (next === null) await store.delete(key);
        else await store.set(key, next);
        await bumpVersion();
        return { before: current, after: next ?? undefined };
      }
      await sleep(25 * attempt);
    }
    throw conflict(key);
  }

  const appNotFound = (clientId: string) => () => new RegistryError(RegistryErrorCode.appNotFound, `no app with client_id "${clientId}" in the registry`);
  const operatorNotFound = (id: string) => () => new RegistryError(RegistryErrorCode.operatorNotFound, `no operator "${id}"`);

  return {
    store,
    city: (code) => store.get<MemberCity>(cityKey(code)),
    async cities() {
      const cities = await readAll<MemberCity>(citiesSet, cityKey);
      return cities.sort((a, b) => a.code.localeCompare(b.code));
    },
    async app(clientId, { fresh = false } = {}) {
      if (!fresh) {
        await refresh();
        const cached = cache.get(clientId);
        if (cached) return cached;
      }
      const started = generation;
      const app = await store.get<MemberApp>(appKey(clientId));
      if (app && started === generation) {
        if (cache.size >= maxCachedApps) cache.clear();
        cache.set(clientId, app);
      }
      return app;
    },
    async appsOf(city) {
      return (await appsIn(city)).sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
    appCount: async (city) => (await appsIn(city)).length,
    operator: (id) => store.get<Operator>(operatorKey(id)),
    async operators() {
      const operators = await readAll<Operator>(operatorsSet, operatorKey);
      return operators.sort((a, b) => a.created_at.localeCompare(b.created_at));
    },

    createCity: (city) => create(cityKey(city.code), city, { set: citiesSet, member: city.code }),
    createApp: (app) => create(appKey(app.client_id), app, { set: appsSet(app.city), member: app.client_id }),
    createOperator: (operator) => create(operatorKey(operator.id), operator, { set: operatorsSet, member: operator.id }),
    updateApp: (clientId, change) => update<MemberApp>(appKey(clientId), appNotFound(clientId), change),
    async removeApp(clientId) {
      const { before } = await update<MemberApp>(appKey(clientId), appNotFound(clientId), () => null);
      await store.removeFromSet(appsSet(before!.city), clientId);
      return before!;
    },
    updateOperator: (id, change) => update<Operator>(operatorKey(id), operatorNotFound(id), change),

    // The one hash-chained trail of the broker (broker/audit), kept without expiry.
    appendAudit: (entry) => audit.appendAudit(entry),
    audit: (query) => audit.audit(query),

    async bindInitialAccessToken(value, binding, ttlMs) {
      await store.set(iatKey(value), binding, ttlMs);
    },
    initialAccessTokenBinding: (value) => store.get<InitialAccessTokenBinding>(iatKey(value)),

    async seeded() {
      return (await store.get(seededKey)) !== undefined;
    },
    async markSeeded(count) {
      await store.set(seededKey, { at: new Date().toISOString(), count });
    },
  };
}
