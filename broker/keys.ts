/**
 * Signing keys, cookie keys and the subject secret. All nodes must use the same ones, so in
 * development they are generated once into the store (under ./data with the default SQLite store)
 * and read back by every node; production takes them from configuration and never generates.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { TongbanConfig } from '../config/defaults.ts';
import { ErrorCode, TongbanError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Store } from './storage/types.ts';

export interface BrokerKeys {
  /** Private JWKs (ES256 first: the default; RS256 for clients that ask for it). */
  readonly signing: JWK[];
  readonly cookieKeys: string[];
  readonly subjectSecret: string;
}

const record = 'keys:material';
const generationClaim = 'keys:generating';

async function generateSigningKeys(): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}` });
  }
  return keys;
}

function keysError(detail: string): TongbanError {
  return new TongbanError(ErrorCode.configInvalid, { status: 500, message: `Keys unusable: ${detail}`, detail });
}

async function readSigningKeysFile(path: string): Promise<JWK[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw keysError(`keys.signingKeysFile ${path} cannot be read as JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw keysError('keys.signingKeysFile must hold a JWKS with at least one key');
  for (const key of keys as JWK[]) {
    if (!key.d || !key.kid) throw keysError('keys.signingKeysFile: every key needs a private part (d) and a kid');
  }
  return keys as JWK[];
}

/** Loads the keys for this node, generating development keys into the store the first time. */
export async function loadKeys(config: TongbanConfig, store: Store, logger: Logger): Promise<BrokerKeys> {
  const { signingKeysFile, cookieKeys, subjectSecret } = config.keys;
  if (config.mode === 'production') {
    return {
      signing: await readSigningKeysFile(signingKeysFile!),
      cookieKeys: [...cookieKeys!],
      subjectSecret: subjectSecret!,
    };
  }
  let stored = await store.get<BrokerKeys>(record);
  if (!stored) {
    if (await store.claim(generationClaim, 30_000)) {
      stored = {
        signing: await generateSigningKeys(),
        cookieKeys: [randomBytes(32).toString('base64url')],
        subjectSecret: randomBytes(32).toString('base64url'),
      };
      await store.set(record, stored);
      logger.info('keys_generated', { keys: stored.signing.length });
    } else {
      // Another node is generating: wait for its result.
      for (let i = 0; i < 100 && !stored; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        stored = await store.get<BrokerKeys>(record);
      }
      if (!stored) throw keysError('another node claimed key generation but never stored keys');
    }
  }
  return {
    signing: signingKeysFile ? await readSigningKeysFile(signingKeysFile) : stored.signing,
    cookieKeys: cookieKeys?.length ? [...cookieKeys] : stored.cookieKeys,
    subjectSecret: subjectSecret ?? stored.subjectSecret,
  };
}
