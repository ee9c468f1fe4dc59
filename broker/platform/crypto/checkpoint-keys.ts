/**
 * Signatures over audit checkpoints: ES256 (a compact JWS, with jose) under the international
 * suite; SM2 with the signer's user id (GB/T 32918, via sm-crypto-v2: Node's own SM2 takes no user
 * id) under the 国密 suite. Keys are generated into the store in development; the public half goes
 * into every checkpoint's `signer` so that `audit verify` can check a copy of the trail offline
 * against a key the operator pins.
 */
import { readFileSync } from 'node:fs';
import { CompactSign, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { sm2 } from 'sm-crypto-v2';
import type { Store } from '../storage/types.ts';
import type { CryptoSuiteName } from './suite.ts';

/** The SM2 distinguishing identifier (ENTL/ID) of the broker's checkpoint signer. */
export const sm2UserId = 'tongban-audit';

export type CheckpointKey =
  | { readonly suite: 'international'; readonly privateJwk: JWK; readonly publicJwk: JWK }
  | { readonly suite: 'gm'; readonly privateKey: string; readonly publicKey: string };

export interface CheckpointSigner {
  /** Public key, as written into each checkpoint (a JWK, or SM2 public key hex). */
  readonly publicKey: string;
  sign(message: string): Promise<string>;
}

export async function newCheckpointKey(suite: CryptoSuiteName): Promise<CheckpointKey> {
  if (suite === 'gm') {
    const pair = sm2.generateKeyPairHex();
    return { suite, privateKey: pair.privateKey, publicKey: pair.publicKey };
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { suite, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

export function checkpointSigner(key: CheckpointKey): CheckpointSigner {
  if (key.suite === 'gm') {
    return {
      publicKey: key.publicKey,
      sign: async (message) => sm2.doSignature(message, key.privateKey, { hash: true, der: false, userId: sm2UserId, publicKey: key.publicKey }),
    };
  }
  const { d: _private, ...publicJwk } = key.privateJwk;
  return {
    publicKey: JSON.stringify({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }),
    async sign(message) {
      const privateKey = await importJWK(key.privateJwk, 'ES256');
      return new CompactSign(new TextEncoder().encode(message)).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    },
  };
}

/** Whether `signature` is a valid signature of `message` by `publicKey` under `suite`. */
export async function verifyCheckpointSignature(suite: CryptoSuiteName, publicKey: string, message: string, signature: string): Promise<boolean> {
  try {
    if (suite === 'gm') return sm2.doVerifySignature(message, signature, publicKey, { hash: true, der: false, userId: sm2UserId });
    const key = await importJWK(JSON.parse(publicKey) as JWK, 'ES256');
    const { payload } = await compactVerify(signature, key, { algorithms: ['ES256'] });
    return new TextDecoder().decode(payload) === message;
  } catch {
    return false;
  }
}

/**
 * Production: the checkpoint key from its file (`keys.auditCheckpointKeyFile`), as
 * `newCheckpointKey` makes it. A missing, unreadable or other-suite file stops start-up with the
 * path and reason, never the key.
 */
export function loadCheckpointKeyFile(path: string, suite: CryptoSuiteName): CheckpointKey {
  let key: Partial<CheckpointKey>;
  try {
    key = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckpointKey>;
  } catch (error) {
    throw new Error(`keys.auditCheckpointKeyFile ${path}: cannot read a JSON checkpoint key (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`);
  }
  const usable = key.suite === 'gm'
    ? typeof key.privateKey === 'string' && typeof key.publicKey === 'string'
    : key.suite === 'international' && typeof key.privateJwk === 'object' && typeof key.privateJwk?.d === 'string';
  if (!usable) throw new Error(`keys.auditCheckpointKeyFile ${path}: not a checkpoint key (make one with npm run audit -- new-checkpoint-key)`);
  if (key.suite !== suite) throw new Error(`keys.auditCheckpointKeyFile ${path}: a key for crypto.suite "${key.suite}", this broker runs "${suite}"`);
  return key as CheckpointKey;
}

/** Development: the store's checkpoint key for `suite`, generated once across nodes. */
export async function loadStoredCheckpointKey(store: Store, suite: CryptoSuiteName): Promise<CheckpointKey> {
  const record = `keys:audit:${suite}`;
  let key = await store.get<CheckpointKey>(record);
  if (key) return key;
  if (await store.claim(`${record}:generating`, 30_000)) {
    key = await newCheckpointKey(suite);
    await store.set(record, key);
    return key;
  }
  for (let i = 0; i < 100; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    key = await store.get<CheckpointKey>(record);
    if (key) return key;
  }
  throw new Error('another node claimed the audit checkpoint key but never stored it');
}
