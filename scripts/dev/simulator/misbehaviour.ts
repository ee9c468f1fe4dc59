/**
 * Ways the simulator can misbehave so tests can prove the broker's validation. The token modes
 * rewrite the ID token the real OP just issued; the relying party must catch every one itself.
 */
import { randomBytes } from 'node:crypto';
import { base64url, CompactSign, decodeJwt, decodeProtectedHeader, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export const misbehaviours = [
  'wrong-signature',
  'wrong-audience',
  'wrong-issuer',
  'wrong-nonce',
  'expired-id-token',
  'alg-none',
  'hs256',
  'bad-id-number',
  'bad-credit-code',
  'wrong-response-iss',
  'slow',
  'down',
  'error-callback',
] as const;
export type Misbehaviour = (typeof misbehaviours)[number];

/** The modes that rewrite the token endpoint's ID token. */
export const idTokenMisbehaviours = new Set<Misbehaviour>([
  'wrong-signature', 'wrong-audience', 'wrong-issuer', 'wrong-nonce', 'expired-id-token', 'alg-none', 'hs256',
]);

export function isMisbehaviour(value: unknown): value is Misbehaviour {
  return typeof value === 'string' && (misbehaviours as readonly string[]).includes(value);
}

export interface SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

export interface RewriteContext {
  /** The simulator's own signing keys, by alg. */
  readonly keys: ReadonlyMap<string, SigningKey>;
  /** Secret of the client the token was issued to (for `hs256`). */
  readonly clientSecret: string | undefined;
  readonly nowSeconds: number;
  /** Keys nobody trusts, by alg, generated on first use (the cache belongs to one simulator). */
  readonly foreignKeys: Map<string, Promise<CryptoKey>>;
}

function foreignKey(context: RewriteContext, alg: string): Promise<CryptoKey> {
  let key = context.foreignKeys.get(alg);
  if (!key) {
    key = generateKeyPair(alg).then((pair) => pair.privateKey);
    context.foreignKeys.set(alg, key);
  }
  return key;
}

async function sign(header: Record<string, unknown>, payload: JWTPayload, key: CryptoKey | Uint8Array): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ ...header, alg: String(header.alg) })
    .sign(key);
}

/** Returns the ID token as the misbehaving national platform would send it. */
export async function rewriteIdToken(mode: Misbehaviour, idToken: string, context: RewriteContext): Promise<string> {
  const header = decodeProtectedHeader(idToken) as Record<string, unknown>;
  const payload = decodeJwt(idToken);
  const own = context.keys.get(String(header.alg));
  if (!own) throw new Error(`no simulator key for ${String(header.alg)}`);
  switch (mode) {
    case 'wrong-signature':
      // Same kid, so only the signature check can tell.
      return sign(header, payload, await foreignKey(context, own.alg));
    case 'wrong-audience':
      return sign(header, { ...payload, aud: 'another-relying-party' }, own.privateKey);
    case 'wrong-issuer':
      return sign(header, { ...payload, iss: 'https://impostor.example.cn' }, own.privateKey);
    case 'wrong-nonce':
      return sign(header, { ...payload, nonce: randomBytes(16).toString('base64url') }, own.privateKey);
    case 'expired-id-token':
      // Well outside any clock tolerance.
      return sign(header, { ...payload, iat: context.nowSeconds - 7200, exp: context.nowSeconds - 3600, auth_time: context.nowSeconds - 7200 }, own.privateKey);
    case 'alg-none': {
      const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
    }
    case 'hs256': {
      // The classic confusion attack: HMAC keyed with something the relying party knows.
      const secret = new TextEncoder().encode(context.clientSecret ?? 'national-simulator');
      return sign({ alg: 'HS256', typ: 'JWT' }, payload, secret);
    }
    default:
      return idToken;
  }
}

/** A resident ID number with its check character changed to a wrong one. */
export function spoilCheckChar(value: string, alphabet: string): string {
  const last = value.at(-1) ?? '';
  const index = alphabet.indexOf(last);
  const replacement = alphabet[(index + 1) % alphabet.length] ?? '0';
  return `${value.slice(0, -1)}${replacement}`;
}
