/**
 * Initial access tokens for dynamic client registration are oidc-provider's own
 * `InitialAccessToken` records, written through the same store adapter the brokers read. Whoever
 * issues them (a broker node's admin API, or the operator CLI with no broker in its process) uses
 * a small provider instance of its own that is never served: it only knows how to save them.
 */
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type AdapterFactory, type JWK } from 'oidc-provider';

/** The registration policy every initial access token carries (implemented in oidc.ts). */
export const memberCityPolicy = 'member-city';

export type InitialAccessTokenMinter = (ttlSeconds: number) => Promise<string>;

export function createInitialAccessTokenMinter(adapter: AdapterFactory, issuer: string): InitialAccessTokenMinter {
  let provider: Promise<Provider> | undefined;
  const build = async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    return new Provider(issuer, {
      adapter,
      jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig' } as JWK] },
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true, initialAccessToken: true, policies: { [memberCityPolicy]: () => undefined } },
      },
    });
  };
  return async (ttlSeconds) => {
    provider ??= build();
    const token = new (await provider).InitialAccessToken({ expiresIn: ttlSeconds, policies: [memberCityPolicy] });
    return token.save();
  };
}
