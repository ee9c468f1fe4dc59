/**
 * Client secrets and operator API keys: generated here with 256 bits of randomness, handed out
 * once, and only ever stored as scrypt hashes (`scrypt$N$r$p$salt$hash`, base64url parts).
 *
 * scrypt is deliberately slow (tens of milliseconds), and a client authenticates on every token
 * request; each verifier therefore remembers, for a few minutes, the digests of secrets it has
 * already verified against a given hash. A rotation changes the hash, so the old secret's
 * remembered success no longer applies.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const cost = { N: 16_384, r: 8, p: 1 } as const;
const keyLength = 32;
const maxmem = 64 * 1024 * 1024;
const prefix = 'scrypt$';

function scryptAsync(secret: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A fresh secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, keyLength, { ...cost, maxmem });
  return `${prefix}${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** True for a value produced by `hashSecret` (a generated secret never contains `$`). */
export function isSecretHash(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(prefix) && value.split('$').length === 6;
}

export interface SecretVerifier {
  verify(secret: string, hash: string): Promise<boolean>;
}

export function createSecretVerifier(options: { rememberMs?: number; maxRemembered?: number } = {}): SecretVerifier {
  const rememberMs = options.rememberMs ?? 5 * 60_000;
  const maxRemembered = options.maxRemembered ?? 10_000;
  const remembered = new Map<string, number>();

  return {
    async verify(secret, hash) {
      if (typeof secret !== 'string' || secret.length === 0 || secret.length > 512 || !isSecretHash(hash)) return false;
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
    },
  };
}
