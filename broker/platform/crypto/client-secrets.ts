/**
 * Client secrets and operator API keys: generated here with 256 bits of randomness and handed out
 * once. What is stored depends on who chose the secret:
 *
 * - a generated secret is stored as a keyed SHA-256 (`hmac-sha256$<key id>$<digest>`, HMAC under a
 *   key derived from the deployment secret). 256 random bits need no password hashing, and a wrong
 *   secret costs one HMAC to refuse, so a flood of them cannot saturate a node;
 * - a secret a person chose (a configuration file's) keeps scrypt (`scrypt$N$r$p$salt$hash`),
 *   deliberately slow against guessing from a stolen copy of the store.
 *
 * Hashes written before the keyed form are scrypt too: they are still read, and a generated secret
 * verified against one is upgraded to the keyed form (`verify`'s `upgrade`), so nothing stored is
 * lost. Each verifier remembers, for a few minutes, the scrypt successes it has seen; a rotation
 * changes the hash, so the old secret's remembered success no longer applies.
 */
import { createHash, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const cost = { N: 16_384, r: 8, p: 1 } as const;
const keyLength = 32;
const maxmem = 64 * 1024 * 1024;
const scryptPrefix = 'scrypt$';
const hmacPrefix = 'hmac-sha256$';
/** What `generateSecret` produces: 32 bytes, base64url. */
const generatedPattern = /^[A-Za-z0-9_-]{43}$/;

function scryptAsync(secret: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A fresh secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The key of the keyed hashes, derived (HKDF) from the deployment secret; never stored. */
export interface SecretKey {
  readonly id: string;
  readonly bytes: Buffer;
}

export function secretKeyOf(deploymentSecret: string | Uint8Array): SecretKey {
  const bytes = Buffer.from(hkdfSync('sha256', deploymentSecret, 'tongban', 'client and operator secrets v1', 32));
  return { id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8), bytes };
}

/** scrypt: for a secret a person chose. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, keyLength, { ...cost, maxmem });
  return `${scryptPrefix}${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** The keyed hash: for a generated secret. */
export function hashGeneratedSecret(secret: string, key: SecretKey): string {
  return `${hmacPrefix}${key.id}$${createHmac('sha256', key.bytes).update(secret).digest('base64url')}`;
}

/** True for a value produced by `hashSecret` or `hashGeneratedSecret` (a generated secret never contains `$`). */
export function isSecretHash(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (value.startsWith(scryptPrefix)) return value.split('$').length === 6;
  return value.startsWith(hmacPrefix) && value.split('$').length === 3;
}

/** True for a stored hash that a keyed hash should replace once its secret is next presented. */
export function isSlowHash(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(scryptPrefix);
}

export interface SecretVerifier {
  /**
   * Checks `secret` against a stored hash. When the hash is a slow one of a generated secret and
   * the secret matches, `upgrade` is given the keyed hash to store in its place (its failure is
   * ignored: the next success tries again).
   */
  verify(secret: string, hash: string, upgrade?: (keyed: string) => Promise<unknown>): Promise<boolean>;
  /** The stored form of a freshly generated secret: keyed when a key is known, scrypt otherwise. */
  hash(secret: string): Promise<string>;
}

export function createSecretVerifier(options: { rememberMs?: number; maxRemembered?: number; key?: SecretKey } = {}): SecretVerifier {
  const rememberMs = options.rememberMs ?? 5 * 60_000;
  const maxRemembered = options.maxRemembered ?? 10_000;
  const remembered = new Map<string, number>();
  const { key } = options;

  async function verifyScrypt(secret: string, hash: string): Promise<boolean> {
    const memo = `${hash}\0${createHash('sha256').update(secret).digest('base64url')}`;
    const until = remembered.get(memo);
    if (until !== undefined && until > Date.now()) return true;
    const [, n, r, p, salt, expected] = hash.split('$') as [string, string, string, string, string, string];
    const want = Buffer.from(expected, 'base64url');
    let got: Buffer;
    try {
      got = await scryptAsync(secret, Buffer.from(salt, 'base64url'), want.length, { N: Number(n), r: Number(r), p: Number(p), maxmem });
    } catch {
      return false;
    }
    const ok = got.length === want.length && timingSafeEqual(got, want);
    if (ok) {
      if (remembered.size >= maxRemembered) remembered.clear();
      remembered.set(memo, Date.now() + rememberMs);
    }
    return ok;
  }

  return {
    async verify(secret, hash, upgrade) {
      if (typeof secret !== 'string' || secret.length === 0 || secret.length > 512 || !isSecretHash(hash)) return false;
      if (hash.startsWith(hmacPrefix)) {
        // A hash under another deployment secret can never match here.
        if (!key || hash.split('$')[1] !== key.id) return false;
        const want = Buffer.from(hash);
        const got = Buffer.from(hashGeneratedSecret(secret, key));
        return got.length === want.length && timingSafeEqual(got, want);
      }
      const ok = await verifyScrypt(secret, hash);
      if (ok && upgrade && key && generatedPattern.test(secret)) {
        await upgrade(hashGeneratedSecret(secret, key)).catch(() => undefined);
      }
      return ok;
    },
    async hash(secret) {
      return key ? hashGeneratedSecret(secret, key) : hashSecret(secret);
    },
  };
}
