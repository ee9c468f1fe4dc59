/** The one internal module of oidc-provider the broker uses; see provider-keystore.ts. */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  import type Provider from 'oidc-provider';
  /** Validates `jwks` and installs it as the provider's keystore and published JWKS. */
  export default function initialize(this: Provider, jwks: { keys: unknown[] }): void;
}
