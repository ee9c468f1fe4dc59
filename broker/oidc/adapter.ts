/**
 * oidc-provider's storage adapter over a `Store`, safe with many broker nodes:
 *
 * - records `oidc:<Model>:<id>` hold the payload in a compact form (adapter-records.ts), with the
 *   expiry that `consume` needs to keep the remaining lifetime;
 * - the Session uid and the device flow's user code are pointer records, checked against the
 *   record they point to, so a stale pointer is harmless and no index is ever read-modify-written;
 * - the tokens of a grant are members of the set `oidc:grant:<grantId>` (set primitives: atomic);
 * - `consume` is decided by `claim`, so exactly one node wins; a replay revokes the grant;
 * - every id (token, code, initial and registration access token, session, uid, user code) is
 *   stored under a keyed hash of its value, and a payload's `jti` (the value itself) is not
 *   stored but put back from the id asked for, so a copy of the store holds no usable bearer
 *   credential. A Session found by uid gets its id back from the uid's pointer, which holds it
 *   (a session id is only usable with the cookie keys); a DeviceCode, found by user code, keeps
 *   its `jti`.
 *
 * Store keys take the hash's first 132 bits (22 characters): plenty against collisions between
 * ids, and 21 characters less in every key and grant set member. Earlier versions used
 * all 43 characters: every lookup asks for both forms in one request (MGET), the current one
 * first, and `destroy` removes both, so sessions and tokens stored before an upgrade keep working
 * for as long as they live. Records, pointers and members are only ever written in the current
 * form, except a record consumed where it was found.
 *
 * @example
 * new Provider(issuer, { adapter: createOidcAdapterFactory(store, { idKey: storeIdKeyOf(keys.subjectSecret), clockToleranceSeconds: 5 }) });
 */
import { errors } from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { cryptoSuite, type CryptoSuite } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import { decodeRecord, encodeRecord, type OidcRecord, type StoredRecord } from './adapter-records.ts';

export interface OidcAdapterOptions {
  /** Added to every lifetime, as oidc-provider's `clockTolerance` accepts tokens that much older. */
  readonly clockToleranceSeconds?: number;
  /**
   * Key of the hash that store keys are made with, from the deployment's secrets
   * (`storeIdKeyOf(keys.subjectSecret)`, broker/platform/crypto). Every node and tool sharing the
   * store must use the same one.
   */
  readonly idKey: string | Buffer;
  /** HMAC-SHA-256 by default; HMAC-SM3 under the 国密 suite. */
  readonly suite?: CryptoSuite;
  /**
   * The longest lifetime, seconds, configured for any token of a grant (code, access and refresh
   * token). A token living no longer is listed in its grant's set with that one fixed lifetime (the
   * store sets the set's expiry without comparing: one command fewer per token); a longer-lived one
   * (a resource server's own access-token lifetime) in the grant's second set, which keeps its
   * expiry at least as long as its longest member. Without it every token goes to the first set,
   * compared. Lowering the configured lifetimes while longer-lived tokens of the old ones still live
   * may unlist them before they expire; they still end with their grant.
   */
  readonly grantTokenLifetimeSeconds?: number;
}

/** Hashes an id: the form stored now, then the form earlier versions stored. */
type IdHash = (kind: string, value: string) => readonly [current: string, earlier: string];

/** base64url characters of the hash in store keys (132 bits). */
const storedHashLength = 22;

/** Models whose records carry a grantId and die with their grant (as oidc-provider's memory adapter). */
const grantable = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** How grant sets and consumed markers name the model of a record stored in the current form (earlier ones: the model's name). */
const memberModels = new Map([
  ['AccessToken', 'AT'], ['AuthorizationCode', 'AC'], ['RefreshToken', 'RT'],
  ['DeviceCode', 'DC'], ['BackchannelAuthenticationRequest', 'BA'], ['PreAuthorizedCode', 'PA'],
]);
const modelOfMember = new Map([...memberModels].map(([model, code]) => [code, model]));

/** Lifetime of the "consumed" marker of a record that has no expiry of its own. */
const consumedMarkerWithoutExpiryMs = 14 * 24 * 3600 * 1000;

// Every `id`, `uid` and `userCode` below is already hashed (IdHash); grant ids are not credentials.
const recordKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (grantId: string) => `oidc:grant:${grantId}`;
/** Tokens that outlive `grantTokenLifetimeSeconds`: listed apart, so the first set keeps one fixed lifetime. */
const longGrantKey = (grantId: string) => `oidc:grant:${grantId}:long`;
const sessionUidKey = (uid: string) => `oidc:sessionUid:${uid}`;
const userCodeKey = (userCode: string) => `oidc:userCode:${userCode}`;
const epochSeconds = () => Math.floor(Date.now() / 1000);
/** Which form an id is in: 0 the current one, 1 the earlier one. */
const formOf = (id: string) => (id.length === storedHashLength ? 0 : 1);
/** A record as a grant set's member (and a consumed marker) names it: the form of its id says which form. */
const memberOf = (model: string, id: string) => `${formOf(id) === 0 ? memberModels.get(model) ?? model : model}:${id}`;

function remainingMs(record: OidcRecord): number | undefined {
  return record.expiresAt === null ? undefined : Math.max(1, record.expiresAt - Date.now());
}

/** A record found, with the id (in the form) it was found under. */
interface Found extends OidcRecord {
  readonly id: string;
}

class StoreOidcAdapter implements Adapter {
  readonly #model: string;
  readonly #store: Store;
  readonly #toleranceMs: number;
  readonly #hash: IdHash;
  /** The fixed lifetime of grant sets, tolerance included; undefined: compared adds only. */
  readonly #grantSetMs: number | undefined;

  constructor(model: string, store: Store, toleranceMs: number, hash: IdHash, grantSetMs: number | undefined) {
    this.#model = model;
    this.#store = store;
    this.#toleranceMs = toleranceMs;
    this.#hash = hash;
    this.#grantSetMs = grantSetMs;
  }

  /** Lists a token in its grant's set: with the fixed lifetime when it lives no longer. */
  #indexInGrant(grantId: string, member: string, ttlMs: number | undefined): Promise<void> {
    const fixed = this.#grantSetMs;
    if (fixed === undefined) return this.#store.addToSet(grantKey(grantId), member, ttlMs);
    if (ttlMs !== undefined && ttlMs <= fixed) return this.#store.addToSet(grantKey(grantId), member, fixed, { fixedLifetime: true });
    return this.#store.addToSet(longGrantKey(grantId), member, ttlMs);
  }

  async upsert(rawId: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const [id] = this.#hash('id', rawId);
    const ttlMs = typeof expiresIn === 'number' ? Math.max(1, expiresIn * 1000 + this.#toleranceMs) : undefined;
    const record = encodeRecord(this.#model, rawId, payload, ttlMs === undefined ? null : Date.now() + ttlMs);
    // Indexes first: a revocation that starts while this runs must already see the token.
    const indexes: Array<Promise<unknown>> = [];
    if (grantable.has(this.#model) && typeof payload.grantId === 'string') {
      indexes.push(this.#indexInGrant(payload.grantId, memberOf(this.#model, id), ttlMs));
    }
    if (this.#model === 'Session' && typeof payload.uid === 'string') {
      // The session's id itself: the record then needs no `jti` (found by uid, it is put back from here).
      indexes.push(this.#store.set(sessionUidKey(this.#hash('uid', payload.uid)[0]), rawId, ttlMs));
    }
    if (typeof payload.userCode === 'string') {
      indexes.push(this.#store.set(userCodeKey(this.#hash('userCode', payload.userCode)[0]), id, ttlMs));
    }
    await Promise.all(indexes);
    await this.#store.set(recordKey(this.#model, id), record, ttlMs);
  }

  async find(rawId: string): Promise<AdapterPayload | undefined> {
    return (await this.#found(rawId))[0]?.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    // A current pointer holds the session's id, an earlier one the key of a record that kept its `jti`.
    const [current, earlier] = await this.#store.getMany<string>(this.#hash('uid', uid).map(sessionUidKey));
    const payload = typeof current === 'string' ? (await this.#found(current))[0]?.payload : await this.#at(earlier);
    return payload?.uid === uid ? payload : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const pointers = await this.#store.getMany<string>(this.#hash('userCode', userCode).map(userCodeKey));
    const payload = await this.#at(pointers.find((pointer) => typeof pointer === 'string'));
    return payload?.userCode === userCode ? payload : undefined;
  }

  async destroy(rawId: string): Promise<void> {
    const found = await this.#found(rawId);
    // The current key always (as before: a record written meanwhile goes too), the earlier one when it held a record.
    const [current] = this.#hash('id', rawId);
    const ids = new Set([current, ...found.map((record) => record.id)]);
    await Promise.all([...ids].map((id) => this.#store.delete(recordKey(this.#model, id))));
    await Promise.all(found.map(async ({ id, payload }) => {
      const form = formOf(id);
      await Promise.all([
        typeof payload.uid === 'string' ? removePointer(this.#store, sessionUidKey(this.#hash('uid', payload.uid)[form]), form === 0 ? rawId : id) : undefined,
        typeof payload.userCode === 'string' ? removePointer(this.#store, userCodeKey(this.#hash('userCode', payload.userCode)[form]), id) : undefined,
        grantable.has(this.#model) && typeof payload.grantId === 'string'
          ? this.#store.removeFromSet(grantKey(payload.grantId), memberOf(this.#model, id))
          : undefined,
        // Listed in the second set when it outlived the fixed lifetime (#indexInGrant).
        grantable.has(this.#model) && typeof payload.grantId === 'string' && this.#grantSetMs !== undefined
          ? this.#store.removeFromSet(longGrantKey(payload.grantId), memberOf(this.#model, id))
          : undefined,
      ]);
    }));
  }

  /**
   * Exactly one caller across all nodes marks the record consumed. Any other caller is a replay
   * (or lost the race to one): the grant's tokens are revoked and the grant is destroyed, as
   * RFC 6749 §10.5 asks, and the request fails with invalid_grant.
   */
  async consume(rawId: string): Promise<void> {
    const [record] = await this.#found(rawId);
    if (!record) throw this.#replayError('not found or expired');
    // Named after the record's key as found (the earlier form for a record stored before the
    // upgrade, as earlier versions named it), so every node agrees on it.
    const won = await this.#store.claim(
      `oidc:consumed:${memberOf(this.#model, record.id)}`,
      remainingMs(record) ?? consumedMarkerWithoutExpiryMs,
    );
    if (!won) {
      const { grantId } = record.payload;
      if (typeof grantId === 'string') {
        await Promise.all([this.revokeByGrantId(grantId), ...this.#hash('id', grantId).map((id) => this.#store.delete(recordKey('Grant', id)))]);
      }
      throw this.#replayError('already consumed');
    }
    const payload = { ...record.payload, consumed: epochSeconds() };
    await this.#store.set(recordKey(this.#model, record.id), encodeRecord(this.#model, rawId, payload, record.expiresAt), remainingMs(record));
  }

  /**
   * Removes every token recorded under the grant, whatever its model. Members are removed one by
   * one rather than the set deleted, so a token added meanwhile stays listed for the next revocation.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    const sets = [grantKey(grantId), longGrantKey(grantId)];
    const listed = await Promise.all(sets.map((set) => this.#store.members(set)));
    await Promise.all(listed.flatMap((members, index) => members.map((member) => [sets[index]!, member] as const)).map(async ([setKey, member]) => {
      const separator = member.indexOf(':');
      const model = modelOfMember.get(member.slice(0, separator)) ?? member.slice(0, separator);
      const id = member.slice(separator + 1);
      const key = recordKey(model, id);
      const stored = await this.#store.get<StoredRecord>(key);
      await this.#store.delete(key);
      // Only a device code has a user code pointing at it: no other record needs opening.
      const userCode = stored && model === 'DeviceCode' ? decodeRecord(model, undefined, stored, this.#toleranceMs).payload.userCode : undefined;
      if (typeof userCode === 'string') await removePointer(this.#store, userCodeKey(this.#hash('userCode', userCode)[formOf(id)]), id);
      await this.#store.removeFromSet(setKey, member);
    }));
  }

  /** The records stored under either form of the id, the current form first (one request). */
  async #found(rawId: string): Promise<Found[]> {
    const ids = this.#hash('id', rawId);
    const stored = await this.#store.getMany<StoredRecord>(ids.map((id) => recordKey(this.#model, id)));
    return ids.flatMap((id, index) => {
      const record = stored[index];
      return record === undefined ? [] : [{ id, ...decodeRecord(this.#model, rawId, record, this.#toleranceMs) }];
    });
  }

  /** The payload stored under an id as hashed (a pointer's), which keeps its own `jti`. */
  async #at(id: string | undefined): Promise<AdapterPayload | undefined> {
    if (typeof id !== 'string') return undefined;
    const stored = await this.#store.get<StoredRecord>(recordKey(this.#model, id));
    return stored && decodeRecord(this.#model, undefined, stored, this.#toleranceMs).payload;
  }

  #replayError(detail: string): Error {
    // A used request_uri is reported by oidc-provider itself as invalid_request_uri.
    if (this.#model === 'PushedAuthorizationRequest') {
      return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
    }
    return new errors.InvalidGrant(`${this.#model} ${detail}`);
  }
}

/** Deletes a pointer record only while it still points at `target` (a newer owner keeps it). */
async function removePointer(store: Store, key: string, target: string): Promise<void> {
  if ((await store.get<string>(key)) === target) await store.delete(key);
}

/**
 * The `adapter` option of oidc-provider 9: called with each model name ("Session",
 * "AccessToken", …) and returns that model's adapter.
 */
export function createOidcAdapterFactory(store: Store, options: OidcAdapterOptions): AdapterFactory {
  const toleranceMs = Math.max(0, options.clockToleranceSeconds ?? 0) * 1000;
  const suite = options.suite ?? cryptoSuite('international');
  const { idKey } = options;
  const hash: IdHash = (kind, value) => {
    const full = suite.keyedHash(idKey, kind, value);
    return [full.slice(0, storedHashLength), full];
  };
  const grantSetMs = options.grantTokenLifetimeSeconds === undefined ? undefined : options.grantTokenLifetimeSeconds * 1000 + toleranceMs;
  return (model: string) => new StoreOidcAdapter(model, store, toleranceMs, hash, grantSetMs);
}
