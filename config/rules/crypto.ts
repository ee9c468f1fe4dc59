/**
 * The rules configured data keys and the crypto suite pass (`keys.dataKeys`, `crypto.suite`): pure,
 * every problem at once, never a key's value. The broker's sealing code reads the parsed keys.
 */

export type CryptoSuiteName = 'international' | 'gm';
export const cryptoSuiteNames: readonly CryptoSuiteName[] = ['international', 'gm'];

/** Bytes of a data key under either suite (AES-256 key, or SM4 key + HMAC-SM3 key derived from it). */
export const dataKeyBytes = 32;

export interface DataKey {
  readonly id: string;
  readonly secret: Buffer;
}

const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

/** Parses configured entries `id:base64url`; reports every problem at once, never a key's value. */
export function parseDataKeys(entries: readonly string[]): { keys: DataKey[]; problems: string[] } {
  const keys: DataKey[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator) : '';
    const secret = Buffer.from(entry.slice(separator + 1), 'base64url');
    if (!keyIdPattern.test(id)) problems.push(`keys.dataKeys[${index}]: expected "id:base64url" with an id of 1-32 letters, digits, _ or -`);
    else if (secret.length !== dataKeyBytes) problems.push(`keys.dataKeys[${index}] ("${id}"): the key must be ${dataKeyBytes} bytes, base64url (got ${secret.length})`);
    else if (keys.some((key) => key.id === id)) problems.push(`keys.dataKeys[${index}]: key id "${id}" appears twice`);
    else keys.push({ id, secret });
  });
  if (entries.length === 0) problems.push('keys.dataKeys: at least one data key is required (TONGBAN_DATA_KEY)');
  return { keys, problems };
}
