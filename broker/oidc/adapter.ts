/**
 * oidc-provider's storage adapter over a `Store`, safe with many broker nodes:
 *
 * - records `oidc:<Model>:<id>` hold `{ payload, expiresAt }` (plain JSON; `expiresAt` lets
 *   `consume` keep the remaining lifetime);
 * - the Session uid and the device flow's user code are pointer records, checked against the
 *   record they point to, so a stale pointer is harmless and no index is ever read-modify-written;
 * - the tokens of a grant are members of the set `oidc:grant:<grantId>` (set primitives: atomic);
 * - `consume` is decided by `claim`, so exactly one node wins; a replay revokes the grant;
 * - every id (token, code, initial and registration access token, session, uid, user code) is
 *   stored under a keyed hash of its value, and a payload's `jti` (the value itself) is not
 *   stored but put back from the id asked for, so a copy of the store holds no usable bearer
 *   credential. Only Session and DeviceCode keep their `jti`: they are found by uid / user code,
 *   and oidc-provider needs the id back (a session id is only usable with the cookie keys).
 *
 * @example
 * new Provider(issuer, { adapter: createOidcAdapterFactory(store, { idKey: storeIdKeyOf(keys.subjectSecret), clockToleranceSeconds: 5 }) });
 */
import { errors } from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import { cryptoSuite, type CryptoSuite } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';

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
}

/** Hashes an id into the form it is stored under. */
type IdHash = (kind: string, value: string) => string;

/** Models found by something other than their id, whose payload must keep the raw `jti`. */
const keepsJti = new Set(['Session', 'DeviceCode']);

interface StoredRecord {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds, or null for no expiry. */
  readonly expiresAt: number | null;
  /** `id`: the payload's `jti` was the id itself, left out and put back on reading. */
  readonly jti?: 'id';
}

/** Models whose records carry a grantId and die with their grant (as oidc-provider's memory adapter). */
const grantable = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** Lifetime of the "consumed" marker of a record that has no expiry of its own. */
const consumedMarkerWithoutExpiryMs = 14 * 24 * 3600 * 1000;

// Every `id`, `uid` and `userCode` below is already hashed (IdHash); grant ids are not credentials.
const recordKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (grantId: string) => `oidc:grant:${grantId}`;
const sessionUidKey = (uid: string) => `oidc:sessionUid:${uid}`;
const userCodeKey = (userCode: string) => `oidc:userCode:${userCode}`;
const epochSeconds = () => Math.floor(Date.now() / 1000);

function remainingMs(record: StoredRecord): number | undefined {
  return record.expiresAt === null ? undefined : Math.max(1, record.expiresAt - Date.now());
}

class StoreOidcAdapter implements Adapter {
  readonly #model: string;
  readonly #store: Store;
  readonly #toleranceMs: number;
  readonly #hash: IdHash;

  constructor(model: string, store: Store, toleranceMs: number, hash: IdHash) {
    this.#model = model;
    this.#store = store;
    this.#toleranceMs = toleranceMs;
    this.#hash = hash;
  }

  async upsert(rawId: string, rawPayload: AdapterPayload, expiresIn?: number): Promise<void> {
    const id = this.#hash('id', rawId);
    const key = recordKey(this.#model, id);
    const ttlMs = typeof expiresIn === 'number' ? Math.max(1, expiresIn * 1000 + this.#toleranceMs) : undefined;
    const { payload, jti } = this.#stored(rawId, rawPayload);
    const record: StoredRecord = { payload, expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs, ...(jti ? { jti } : {}) };
    // Indexes first: a revocation that starts while this runs must already see the token.
    const indexes: Array<Promise<unknown>> = [];
    if (grantable.has(this.#model) && typeof payload.grantId === 'string') {
      indexes.push(this.#store.addToSet(grantKey(payload.grantId), `${this.#model}:${id}`, ttlMs));
    }
    if (this.#model === 'Session' && typeof payload.uid === 'string') {
      indexes.push(this.#store.set(sessionUidKey(this.#hash('uid', payload.uid)), id, ttlMs));
    }
    if (typeof payload.userCode === 'string') {
      indexes.push(this.#store.set(userCodeKey(this.#hash('userCode', payload.userCode)), id, ttlMs));
    }
    await Promise.all(indexes);
    await this.#store.set(key, record, ttlMs);
  }

  async find(rawId: string): Promise<AdapterPayload | undefined> {
    const record = await this.#record(this.#hash('id', rawId));
    if (!record) return undefined;
    return record.jti === 'id' ? { ...record.payload, jti: rawId } : record.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.#store.get<string>(sessionUidKey(this.#hash('uid', uid)));
    if (typeof id !== 'string') return undefined;
    const payload = (await this.#record(id))?.payload;
    return payload?.uid === uid ? payload : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await this.#store.get<string>(userCodeKey(this.#hash('userCode', userCode)));
    if (typeof id !== 'string') return undefined;
    const payload = (await this.#record(id))?.payload;
    return payload?.userCode === userCode ? payload : undefined;
  }

  async destroy(rawId: string): Promise<void> {
    const id = this.#hash('id', rawId);
    const record = await this.#record(id);
    await this.#store.delete(recordKey(this.#model, id));
    if (!record) return;
    const { payload } = record;
    await Promise.all([
      removePointer(this.#store, typeof payload.uid === 'string' ? sessionUidKey(this.#hash('uid', payload.uid)) : undefined, id),
      removePointer(this.#store, typeof payload.userCode === 'string' ? userCodeKey(this.#hash('userCode', payload.userCode)) : undefined, id),
      grantable.has(this.#model) && typeof payload.grantId === 'string'
        ? this.#store.removeFromSet(grantKey(payload.grantId), `${this.#model}:${id}`)
        : undefined,
    ]);
  }

  /**
   * Exactly one caller across all nodes marks the record consumed. Any other caller is a replay
   * (or lost the race to one): the grant's tokens are revoked and the grant is destroyed, as
   * RFC 6749 §10.5 asks, and the request fails with invalid_grant.
   */
  async consume(rawId: string): Promise<void> {
    const id = this.#hash('id', rawId);
    const record = await this.#record(id);
    if (!record) throw this.#replayError('not found or expired');
    const won = await this.#store.claim(
      `oidc:consumed:${this.#model}:${id}`,
      remainingMs(record) ?? consumedMarkerWithoutExpiryMs,
    );
    if (!won) {
      const { grantId } = record.payload;
      if (typeof grantId === 'string') {
        await Promise.all([this.revokeByGrantId(grantId), this.#store.delete(recordKey('Grant', this.#hash('id', grantId)))]);
      }
      throw this.#replayError('already consumed');
    }
    const consumed: StoredRecord = { ...record, payload: { ...record.payload, consumed: epochSeconds() } };
    await this.#store.set(recordKey(this.#model, id), consumed, remainingMs(record));
  }

  /**
   * Removes every token recorded under the grant, whatever its model. Members are removed one by
   * one rather than the set deleted, so a token added meanwhile stays listed for the next revocation.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    const setKey = grantKey(grantId);
    const members = await this.#store.members(setKey);
    await Promise.all(members.map(async (member) => {
      const separator = member.indexOf(':');
      const model = member.slice(0, separator);
      const id = member.slice(separator + 1);
      const key = recordKey(model, id);
      const record = await this.#store.get<StoredRecord>(key);
      await this.#store.delete(key);
      const userCode = record?.payload.userCode;
      if (typeof userCode === 'string') await removePointer(this.#store, userCodeKey(this.#hash('userCode', userCode)), id);
      await this.#store.removeFromSet(setKey, member);
    }));
  }

  async #record(id: string): Promise<StoredRecord | undefined> {
    return this.#store.get<StoredRecord>(recordKey(this.#model, id));
  }

  /** The payload as stored: without its `jti` when that is the credential itself. */
  #stored(rawId: string, payload: AdapterPayload): { payload: AdapterPayload; jti?: 'id' } {
    if (keepsJti.has(this.#model) || payload.jti !== rawId) return { payload };
    const { jti: _jti, ...rest } = payload;
    return { payload: rest, jti: 'id' };
  }

  #replayError(detail: string): Error {
    // A used request_uri is reported by oidc-provider itself as invalid_request_uri.
    if (this.#model === 'PushedAuthorizationRequest') {
      return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
    }
    return new errors.InvalidGrant(`${this.#model} ${detail}`);
  }
}

/** Deletes a pointer record only while it still points at `id` (a newer owner keeps it). */
async function removePointer(store: Store, key: string | undefined, id: string): Promise<void> {
  if (key === undefined) return;
  if ((await store.get<string>(key)) === id) await store.delete(key);
}

/**
 * The `adapter` option of oidc-provider 9: called with each model name ("Session",
 * "AccessToken", …) and returns that model's adapter.
 */
export function createOidcAdapterFactory(store: Store, options: OidcAdapterOptions): AdapterFactory {
  const toleranceMs = Math.max(0, options.clockToleranceSeconds ?? 0) * 1000;
  const suite = options.suite ?? cryptoSuite('international');
  const { idKey } = options;
  const hash: IdHash = (kind, value) => suite.keyedHash(idKey, kind, value);
  return (model: string) => new StoreOidcAdapter(model, store, toleranceMs, hash);
}
