/**
 * Replaces the signing keys of a running oidc-provider.
 *
 * oidc-provider takes its keys once, from the `jwks` option at construction, and keeps them in an
 * internal keystore (signing picks the first key of the wanted algorithm; verification, e.g. of an
 * `id_token_hint`, any key with the token's `kid`; the JWKS endpoint serves their public halves).
 * Rotation without a restart needs that keystore replaced. This runs the library's own keystore
 * initialisation again on the live instance, so the new keys get exactly the validation and public
 * JWKS derivation that construction gives them; every later request reads the new keystore.
 *
 * It reaches into an internal module of oidc-provider 9 (lib/helpers/initialize_keystore.js):
 * the static import fails loudly at start-up if a library upgrade moves it, and
 * test/rotation.test.ts proves signing, verification and JWKS follow a replacement.
 */
import type Provider from 'oidc-provider';
import type { JWK } from 'jose';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';

/** Makes `keys` the provider's keys: the first key of each algorithm signs, all are published. */
export function replaceSigningKeys(provider: Provider, keys: readonly JWK[]): void {
  initializeKeystore.call(provider, { keys: keys.map((key) => structuredClone(key)) });
}
