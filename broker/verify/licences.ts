/**
 * Verifies an electronic licence (电子证照) as the issuing authority signed it, with nothing but the
 * national licence library's URL: the authority's signature against the keys the library publishes
 * (`<library>/jwks`, each key naming its authority), the holder against the person or company the
 * service expects, the validity dates, and the library's signed revocation list (`<library>/revocations`).
 */
import { createLocalJWKSet, decodeProtectedHeader, compactVerify, type JSONWebKeySet, type JWK } from 'jose';
import { LicenceError, LicenceErrorCode } from './licence-errors.ts';

export interface LicenceVerifierOptions {
  /** The national licence library, e.g. `http://127.0.0.1:3100/licence-library`. */
  readonly library: string;
  /** Allowed clock skew on validity dates (default 5 s). */
  readonly clockToleranceSeconds?: number;
  /** How long the keys and the revocation list are trusted before a refetch (default 60 s). */
  readonly cacheMaxAgeSeconds?: number;
  /** Time-out of each fetch (default 5000 ms). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface LicenceHolder {
  readonly id_type: 'resident_id' | 'credit_code';
  /** Resident ID number or unified social credit code. */
  readonly id: string;
  readonly name: string;
}

export interface VerifiedLicence {
  readonly type: string;
  readonly name: string;
  readonly number: string;
  readonly holder: LicenceHolder;
  readonly issuer: { readonly code: string; readonly name: string };
  readonly issuedOn: string;
  readonly validUntil: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface LicenceChecks {
  /** The ID number or credit code the licence must belong to (from the token's person or company). */
  readonly holder: string;
  /** The licence type expected, e.g. `id_card`. */
  readonly type?: string;
}

export interface LicenceVerifier {
  /**
   * @example
   * const licence = await licences.verify(document, { holder: idToken.idnum, type: 'id_card' });
   */
  verify(document: string, checks: LicenceChecks): Promise<VerifiedLicence>;
}

const libraryKeyId = 'licence-library';

export function createLicenceVerifier(options: LicenceVerifierOptions): LicenceVerifier {
  const base = options.library.replace(/\/$/, '');
  const doFetch = options.fetch ?? fetch;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const maxAge = (options.cacheMaxAgeSeconds ?? 60) * 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let keys: { at: number; set: JSONWebKeySet } | undefined;
  let revocations: { at: number; numbers: Set<string> } | undefined;

  async function get(path: string): Promise<Response> {
    try {
      const response = await doFetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      return response;
    } catch (cause) {
      throw new LicenceError(LicenceErrorCode.libraryUnavailable, `the licence library's ${path.slice(1)} could not be fetched`, { cause });
    }
  }

  async function keySet(refresh = false): Promise<JSONWebKeySet> {
    if (!refresh && keys && Date.now() - keys.at < maxAge) return keys.set;
    const set = (await (await get('/jwks')).json()) as JSONWebKeySet;
    if (!Array.isArray(set?.keys)) throw new LicenceError(LicenceErrorCode.libraryUnavailable, 'the licence library published no key set');
    keys = { at: Date.now(), set };
    return set;
  }

  async function revoked(): Promise<Set<string>> {
    if (revocations && Date.now() - revocations.at < maxAge) return revocations.numbers;
    const list = (await (await get('/revocations')).text()).trim();
    const set = await keySet();
    try {
      if (decodeProtectedHeader(list).typ !== 'licence-revocations+jwt') throw new Error('typ');
      const { payload } = await compactVerify(list, createLocalJWKSet({ keys: set.keys.filter((k) => k.kid === libraryKeyId) }), { algorithms: ['ES256'] });
      const body = JSON.parse(new TextDecoder().decode(payload)) as { exp?: number; revoked?: Array<{ number?: unknown }> };
      if (typeof body.exp !== 'number' || body.exp + tolerance < Date.now() / 1000 || !Array.isArray(body.revoked)) throw new Error('stale or unreadable');
      revocations = { at: Date.now(), numbers: new Set(body.revoked.map((r) => String(r.number))) };
      return revocations.numbers;
    } catch (cause) {
      throw new LicenceError(LicenceErrorCode.libraryUnavailable, 'the revocation list failed its check', { cause });
    }
  }

  return {
    async verify(document, checks) {
      let header;
      try {
        header = decodeProtectedHeader(document);
      } catch (cause) {
        throw new LicenceError(LicenceErrorCode.malformed, 'not a compact JWS', { cause });
      }
      if (header.typ !== 'licence+jwt' || header.alg !== 'ES256' || typeof header.kid !== 'string') throw new LicenceError(LicenceErrorCode.malformed, 'not a licence+jwt signed with ES256');
      let set = await keySet();
      let key = set.keys.find((k) => k.kid === header.kid && k.kid !== libraryKeyId);
      if (!key) {
        set = await keySet(true);
        key = set.keys.find((k) => k.kid === header.kid && k.kid !== libraryKeyId);
      }
      if (!key) throw new LicenceError(LicenceErrorCode.unknownAuthority, 'no published authority key signed this licence');
      let payload: Record<string, unknown>;
      try {
        const verified = await compactVerify(document, createLocalJWKSet({ keys: [key] }), { algorithms: ['ES256'] });
        payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
      } catch (cause) {
        throw new LicenceError(LicenceErrorCode.signatureInvalid, 'the authority\'s signature does not verify', { cause });
      }
      const issuer = payload.issuer as VerifiedLicence['issuer'] | undefined;
      const holder = payload.holder as LicenceHolder | undefined;
      if (!issuer || !holder || typeof payload.exp !== 'number' || typeof payload.nbf !== 'number' || typeof payload.number !== 'string' || typeof payload.licence_type !== 'string') {
        throw new LicenceError(LicenceErrorCode.malformed, 'the licence lacks a required field');
      }
      if (issuer.code !== payload.iss || issuer.code !== (key as JWK & { authority?: string }).authority) throw new LicenceError(LicenceErrorCode.unknownAuthority, 'the signing key belongs to another authority');
      const now = Date.now() / 1000;
      if (payload.exp + tolerance <= now) throw new LicenceError(LicenceErrorCode.expired, 'the licence has expired');
      if (payload.nbf - tolerance > now) throw new LicenceError(LicenceErrorCode.notYetValid, 'the licence is not valid yet');
      if (checks.type && payload.licence_type !== checks.type) throw new LicenceError(LicenceErrorCode.wrongType, `not a ${checks.type} licence`);
      if (holder.id !== checks.holder) throw new LicenceError(LicenceErrorCode.wrongHolder, 'the licence belongs to someone else');
      if ((await revoked()).has(payload.number)) throw new LicenceError(LicenceErrorCode.revoked, 'the licence has been revoked');
      return {
        type: payload.licence_type, name: String(payload.licence_name ?? ''), number: payload.number, holder, issuer,
        issuedOn: String(payload.issued_on ?? ''), validUntil: String(payload.valid_until ?? ''), fields: (payload.fields ?? {}) as Record<string, unknown>,
      };
    },
  };
}
