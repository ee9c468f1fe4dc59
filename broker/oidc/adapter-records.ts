/**
 * The stored form of oidc-provider's records, made small because every login leaves several of them
 * in the store for the whole session: `[body, flags]`, or `[body, flags, expiry]`.
 *
 * - `body` is the payload with oidc-provider's field names shortened to one character (`names`
 *   below), at every depth. A name of one character, or one starting with `~`, is written with a
 *   `~` in front, so every name reads back as it was, whatever the payload holds. Whole-second
 *   times are written as seconds after the record's `iat`, and an `acr` of the broker's scale as
 *   its level, each under a name of its own, so nothing else is ever read as one.
 * - Fields that can be put back exactly are left out, each with its bit in `flags`: the `jti` when
 *   it is the id itself (a copy of the store then holds no usable token), the `kind` when it is the
 *   model's name, and the few values nearly every record of a model has (`defaults`). A field is
 *   left out only when it is there and equal to what would be put back.
 * - `expiry` is needed only by `consume`, which keeps the remaining lifetime: it is kept for the
 *   models oidc-provider consumes, in milliseconds after the payload's `exp` (a few digits instead
 *   of thirteen), and `null` for no expiry. Other records with an `exp` and a lifetime leave it out;
 *   their expiry is `exp` plus the clock tolerance, which is all oidc-provider accepts anyway.
 *
 * Records written by earlier versions (`{ payload, expiresAt, jti? }`) are still read. The tables
 * below are how stored records read back: entries may be added, never changed.
 */
import type { AdapterPayload } from 'oidc-provider';
import { acrOf, isAssuranceLevel, levelOfAcr } from '../identity/assurance.ts';

/** A record as the store holds it: the current form, or the one earlier versions wrote. */
export type StoredRecord =
  | readonly [body: Record<string, unknown>, flags: number, expiry?: number | null]
  | { readonly payload: AdapterPayload; readonly expiresAt: number | null; readonly jti?: 'id' };

/** A record as the adapter works with it. */
export interface OidcRecord {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds, or null for no expiry. */
  readonly expiresAt: number | null;
}

/** Models oidc-provider consumes (those with `consumed` in their payload): they keep their expiry. */
const consumable = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

/**
 * Models found by something other than their id, whose payload must keep the raw `jti`. A Session
 * found by uid gets it back from the uid's pointer.
 */
const keepsJti = new Set(['DeviceCode']);

/**
 * oidc-provider's payload fields (lib/models, `IN_PAYLOAD`), the fields nested in them
 * (`authorizations` of a Session, `openid` of a Grant, `extra` of an access token) and their
 * one-character stored names.
 */
const names = new Map<string, string>([
  ['iat', 'i'], ['exp', 'e'], ['jti', 'j'], ['kind', 'k'], ['clientId', 'c'], ['accountId', 'a'],
  ['grantId', 'g'], ['sessionUid', 's'], ['expiresWithSession', 'w'], ['gty', 't'], ['scope', 'o'],
  ['extra', 'x'], ['acr', 'A'], ['amr', 'M'], ['authTime', 'T'], ['nonce', 'n'], ['rotations', 'r'],
  ['iiat', 'I'], ['consumed', 'd'], ['codeChallenge', 'C'], ['codeChallengeMethod', 'm'],
  ['redirectUri', 'R'], ['uid', 'u'], ['loginTs', 'l'], ['authorizations', 'z'], ['sid', 'h'],
  ['openid', 'O'], ['resource', 'E'], ['resources', 'N'], ['claims', 'Q'], ['aud', 'U'], ['rar', 'Y'],
  ['jkt', 'J'], ['x5t#S256', 'X'], ['dpopJkt', 'D'], ['attestationJkt', 'K'], ['persistsLogout', 'P'],
  ['rejected', 'V'], ['userCode', 'F'], ['policies', 'y'], ['transient', 'b'], ['auth_time', 'B'],
]);
/**
 * Times (epoch seconds) written as seconds after the record's `iat` under a name of their own:
 * `"f":28800` for `"exp":1796573556`.
 */
const sinceIat = new Map<string, string>([
  ['exp', 'f'], ['authTime', 'W'], ['consumed', 'G'], ['iiat', 'H'], ['loginTs', 'v'], ['auth_time', 'Z'],
]);
/** An `acr` of the broker's scale (`urn:tongban:loa:3`) is written as its level under this name. */
const acrLevel = 'L';
const fieldOf = new Map([...names].map(([name, code]) => [code, name]));
const fieldSinceIat = new Map([...sinceIat].map(([name, code]) => [code, name]));

type Default = readonly [field: string, value: (payload: AdapterPayload) => unknown];

const password = () => ['pwd'];

/**
 * Values nearly every record of a model holds in the broker: a login's tokens come from the code
 * grant, end with the session, and are asked with PKCE S256; the national login is a password's
 * unless it says otherwise; a first refresh token is as old as its chain; a session's login is its
 * first save. A model's list may grow at its end only (a bit once written keeps its meaning).
 */
const defaults = new Map<string, readonly Default[]>([
  ['AccessToken', [['gty', () => 'authorization_code'], ['expiresWithSession', () => true]]],
  ['RefreshToken', [
    ['gty', () => 'authorization_code'], ['expiresWithSession', () => true], ['rotations', () => 0], ['iiat', (p) => p.iat],
    ['amr', password], ['authTime', (p) => p.iat],
  ]],
  ['AuthorizationCode', [['codeChallengeMethod', () => 'S256'], ['expiresWithSession', () => true], ['authTime', (p) => p.iat], ['amr', password]]],
  ['Session', [['loginTs', (p) => p.iat], ['amr', password]]],
]);

/** Equality of a default (a primitive, or an array of them) and a payload's value. */
function same(value: unknown, fallback: unknown): boolean {
  if (!Array.isArray(fallback)) return value === fallback;
  return Array.isArray(value) && value.length === fallback.length && value.every((item, index) => item === fallback[index]);
}

const jtiIsId = 1;
const kindIsModel = 2;
const firstDefault = 4;

/** Sets an own property, a `__proto__` key included (an assignment would set the prototype). */
function put(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/**
 * Writes an entry of a payload into `target` under its stored name; `iat` is the record's, when a
 * whole number.
 */
function encodeEntry(target: Record<string, unknown>, name: string, value: unknown, iat: number | undefined): void {
  const since = sinceIat.get(name);
  if (since !== undefined && iat !== undefined && Number.isSafeInteger(value) && Number.isSafeInteger((value as number) - iat)) {
    target[since] = (value as number) - iat;
    return;
  }
  if (name === 'acr' && typeof value === 'string') {
    const level = levelOfAcr(value);
    if (level !== undefined && acrOf(level) === value) {
      target[acrLevel] = level;
      return;
    }
  }
  put(target, names.get(name) ?? (name.length <= 1 || name.startsWith('~') ? `~${name}` : name), encodeValue(value, iat));
}

function decodeEntry(target: Record<string, unknown>, name: string, value: unknown, iat: number | undefined): void {
  if (name.startsWith('~') || name.length !== 1) {
    put(target, name.startsWith('~') ? name.slice(1) : name, decodeValue(value, iat));
    return;
  }
  const since = fieldSinceIat.get(name);
  if (since !== undefined && iat !== undefined && typeof value === 'number') target[since] = iat + value;
  else if (name === acrLevel && isAssuranceLevel(value)) target.acr = acrOf(value);
  else target[fieldOf.get(name) ?? name] = decodeValue(value, iat);
}

/** What JSON.stringify would write of `value`, its object keys renamed at every depth (`skip`: top-level fields left out). */
function encodeValue(value: unknown, iat: number | undefined, skip?: ReadonlySet<string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const plain = typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (typeof plain !== 'object' || plain === null) return plain;
  if (Array.isArray(plain)) return plain.map((item) => encodeValue(item, iat));
  const target: Record<string, unknown> = {};
  for (const name of Object.keys(plain)) {
    if (!skip?.has(name)) encodeEntry(target, name, (plain as Record<string, unknown>)[name], iat);
  }
  return target;
}

function decodeValue(value: unknown, iat: number | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, iat));
  const target: Record<string, unknown> = {};
  for (const name of Object.keys(value)) decodeEntry(target, name, (value as Record<string, unknown>)[name], iat);
  return target;
}

const wholeOrUndefined = (value: unknown) => (Number.isSafeInteger(value) ? value as number : undefined);
const relativeTo = (payload: AdapterPayload): number | undefined => (Number.isSafeInteger(payload.exp) ? payload.exp! * 1000 : undefined);

/** The stored form of a payload saved under `rawId`; `expiresAt` is epoch milliseconds, or null for no expiry. */
export function encodeRecord(model: string, rawId: string, payload: AdapterPayload, expiresAt: number | null): StoredRecord {
  const left = new Set<string>();
  let flags = 0;
  if (!keepsJti.has(model) && payload.jti === rawId) {
    left.add('jti');
    flags |= jtiIsId;
  }
  if (payload.kind === model) {
    left.add('kind');
    flags |= kindIsModel;
  }
  (defaults.get(model) ?? []).forEach(([field, value], index) => {
    if (Object.hasOwn(payload, field) && payload[field] !== undefined && same(payload[field], value(payload))) {
      left.add(field);
      flags |= firstDefault << index;
    }
  });
  const body = encodeValue(payload, wholeOrUndefined(payload.iat), left) as Record<string, unknown>;
  const base = relativeTo(payload);
  if (expiresAt !== null && !consumable.has(model) && base !== undefined) return [body, flags];
  return [body, flags, expiresAt === null || base === undefined ? expiresAt : expiresAt - base];
}

/** The payload and expiry of a stored record; `rawId` puts back a `jti` left out (unknown for a record found through a pointer). */
export function decodeRecord(model: string, rawId: string | undefined, stored: StoredRecord, toleranceMs: number): OidcRecord {
  if (!Array.isArray(stored)) {
    const old = stored as Exclude<StoredRecord, readonly unknown[]>;
    return { payload: old.jti === 'id' && rawId !== undefined ? { ...old.payload, jti: rawId } : old.payload, expiresAt: old.expiresAt };
  }
  const [body, flags, expiry] = stored as Extract<StoredRecord, readonly unknown[]>;
  const payload = decodeValue(body, wholeOrUndefined(body[names.get('iat')!])) as AdapterPayload;
  (defaults.get(model) ?? []).forEach(([field, value], index) => {
    if (flags & (firstDefault << index)) payload[field] = value(payload);
  });
  if (flags & kindIsModel) payload.kind = model;
  if (flags & jtiIsId && rawId !== undefined) payload.jti = rawId;
  const base = relativeTo(payload);
  if (expiry === undefined) return { payload, expiresAt: base === undefined ? null : base + toleranceMs };
  return { payload, expiresAt: expiry === null || base === undefined ? expiry : base + expiry };
}
