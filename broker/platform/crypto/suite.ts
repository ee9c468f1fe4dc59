/**
 * The two cryptographic suites the broker can run under, behind one small interface so that
 * sealing, keyed hashes and the audit chain never name an algorithm themselves:
 *
 * - `international` (default): SHA-256, HMAC-SHA-256, AES-256-GCM, ES256 checkpoints;
 * - `gm` (国密, GB/T 39786): SM3, HMAC-SM3, SM4 and SM2 checkpoints with a user id. Node's OpenSSL
 *   has SM4 but no SM4-GCM, so sealing is SM4-CBC then HMAC-SM3 over everything (encrypt-then-MAC).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CryptoSuiteName } from '../../../config/rules/crypto.ts';

export { cryptoSuiteNames, dataKeyBytes, type CryptoSuiteName } from '../../../config/rules/crypto.ts';

export interface CryptoSuite {
  readonly name: CryptoSuiteName;
  /** Name of the chain hash, as written into audit entries (`sha256` or `sm3`). */
  readonly hashName: 'sha256' | 'sm3';
  /** Unkeyed digest (hex): the audit chain. */
  digest(data: string | Buffer): string;
  /** Keyed digest (base64url) of `parts` joined by NUL: token keys, derived identifiers. */
  keyedHash(key: Buffer | string, ...parts: string[]): string;
  /** Authenticated encryption; `associated` is bound to the ciphertext but not hidden. */
  seal(key: Buffer, plaintext: Buffer, associated: Buffer): Buffer;
  /** Reverses `seal`; throws on any change to ciphertext, key or associated data. */
  open(key: Buffer, sealed: Buffer, associated: Buffer): Buffer;
}

function keyedHash(algorithm: string) {
  return (key: Buffer | string, ...parts: string[]) => {
    const mac = createHmac(algorithm, key);
    parts.forEach((part, index) => {
      if (index > 0) mac.update('\u0000');
      mac.update(part);
    });
    return mac.digest('base64url');
  };
}

const international: CryptoSuite = {
  name: 'international',
  hashName: 'sha256',
  digest: (data) => createHash('sha256').update(data).digest('hex'),
  keyedHash: keyedHash('sha256'),
  seal(key, plaintext, associated) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associated);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  },
  open(key, sealed, associated) {
    if (sealed.length < 28) throw new Error('sealed value too short');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAAD(associated);
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  },
};

/** One data key gives two: SM4 needs 16 bytes, the MAC its own key (never the same bytes twice). */
function gmKeys(key: Buffer): { encryption: Buffer; mac: Buffer } {
  return {
    encryption: createHmac('sm3', key).update('tongban sm4').digest().subarray(0, 16),
    mac: createHmac('sm3', key).update('tongban hmac-sm3').digest(),
  };
}

function gmTag(mac: Buffer, associated: Buffer, ivAndBody: Buffer): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(associated.length));
  return createHmac('sm3', mac).update(length).update(associated).update(ivAndBody).digest();
}

const gm: CryptoSuite = {
  name: 'gm',
  hashName: 'sm3',
  digest: (data) => createHash('sm3').update(data).digest('hex'),
  keyedHash: keyedHash('sm3'),
  seal(key, plaintext, associated) {
    const { encryption, mac } = gmKeys(key);
    const iv = randomBytes(16);
    const cipher = createCipheriv('sm4-cbc', encryption, iv);
    const ivAndBody = Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([gmTag(mac, associated, ivAndBody), ivAndBody]);
  },
  open(key, sealed, associated) {
    if (sealed.length < 32 + 32) throw new Error('sealed value too short');
    const { encryption, mac } = gmKeys(key);
    const tag = sealed.subarray(0, 32);
    const ivAndBody = sealed.subarray(32);
    if (!timingSafeEqual(tag, gmTag(mac, associated, ivAndBody))) throw new Error('authentication tag mismatch');
    const decipher = createDecipheriv('sm4-cbc', encryption, ivAndBody.subarray(0, 16));
    return Buffer.concat([decipher.update(ivAndBody.subarray(16)), decipher.final()]);
  },
};

export function cryptoSuite(name: CryptoSuiteName = 'international'): CryptoSuite {
  if (name === 'gm') return gm;
  if (name === 'international') return international;
  throw new Error(`unknown crypto suite "${String(name)}": use "international" or "gm"`);
}
