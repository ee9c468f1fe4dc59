/**
 * The member-city registry's records. Field names are snake_case: they are what the CLI prints,
 * what the admin API speaks, and (for apps) close to the OpenID client metadata they become.
 */

export type AppStatus = 'active' | 'suspended';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export type OperatorRole = 'federation' | 'province';

/** A public JWK set (no private members), as `jwks` client metadata. */
export interface PublicJwks {
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface MemberCity {
  /** GB/T 2260 division code (a city, a district or a county). */
  readonly code: string;
  readonly name: string;
  /** Province code derived from the first two digits (`330100` → `330000`). */
  readonly province: string;
  /** Scopes an app of this city may obtain through dynamic client registration. */
  readonly registration_scopes: readonly string[];
  readonly source: 'seed' | 'operator';
  readonly created_at: string;
  readonly updated_at: string;
  /** Incremented on every change; the basis of optimistic concurrency between nodes. */
  readonly revision: number;
}

/** An app of a member city: an OpenID Connect client of the broker. */
export interface MemberApp {
  readonly client_id: string;
  readonly city: string;
  readonly province: string;
  readonly name: string;
  readonly status: AppStatus;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris: readonly string[];
  readonly backchannel_logout_uri?: string;
  readonly token_endpoint_auth_method: TokenAuthMethod;
  readonly jwks_uri?: string;
  readonly jwks?: PublicJwks;
  readonly grant_types: readonly string[];
  /** Space-separated scopes the app may receive; `id_number` only for entitled apps. */
  readonly scope: string;
  /** First-party apps skip the consent page. */
  readonly first_party: boolean;
  /** The purpose the app states per sensitive scope (purposes.ts), shown on the consent page. */
  readonly purposes?: Readonly<Record<string, string>>;
  /** OIDC Core 8.1: where the app publishes its redirect URIs when they span several organisations. */
  readonly sector_identifier_uri?: string;
  /** Mandate scopes an agent must hold to act for a company at this app (set by operators; docs/legal-persons.md). */
  readonly required_mandate_scopes?: readonly string[];
  /** Further standard metadata a dynamically registered app gave (allow-listed). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Keyed hash (`hmac-sha256$…`, or an older scrypt one) of the client secret; the secret itself is never stored. */
  readonly secret_hash?: string;
  readonly secret_issued_at?: string;
  readonly registered_via: 'operator' | 'dynamic_registration';
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision: number;
}

export interface Operator {
  /** Also the public half of the operator's API key. */
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  /** Province code, for province operators. */
  readonly province?: string;
  readonly status: 'active' | 'revoked';
  /** Keyed hash (`hmac-sha256$…`, or an older scrypt one) of the API key's secret half. */
  readonly key_hash: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision: number;
}

/** Who made a change. */
export type Actor =
  | { readonly kind: 'cli'; readonly user: string }
  | { readonly kind: 'operator'; readonly id: string; readonly name: string; readonly role: OperatorRole; readonly province?: string }
  | { readonly kind: 'dynamic_registration'; readonly client_id: string; readonly token?: string }
  | { readonly kind: 'system'; readonly reason: string };

export type AuditAction =
  | 'city.seed' | 'city.add'
  | 'app.register' | 'app.update' | 'app.suspend' | 'app.resume' | 'app.rotate_secret' | 'app.remove'
  | 'initial_access_token.issue' | 'initial_access_token.revoke'
  | 'operator.add' | 'operator.revoke' | 'operator.rotate_key';

export interface AuditEntry {
  /** Sortable: epoch milliseconds, then a random part. */
  readonly id: string;
  readonly at: string;
  readonly actor: Actor;
  readonly action: AuditAction;
  readonly target: { readonly type: 'city' | 'app' | 'operator' | 'initial_access_token'; readonly id: string };
  readonly city?: string;
  readonly province?: string;
  /** The record before and after, secrets and hashes removed. */
  readonly before?: unknown;
  readonly after?: unknown;
}

/** What `issue-token` binds an initial access token to. */
export interface InitialAccessTokenBinding {
  readonly city: string;
  readonly issued_by: Actor;
  readonly expires_at: string;
}
