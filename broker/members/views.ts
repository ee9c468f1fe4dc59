/**
 * What operators see of the member records: apps and operators without their secrets' hashes,
 * configured clients beside registered apps, and the answers of registration and token issue.
 */
import type { ConfiguredClient } from '../../config/defaults.ts';
import type { MemberApp, MemberCity, Operator } from './types.ts';

/** An app as shown to operators: everything but the secret's hash. */
export type AppView = Omit<MemberApp, 'secret_hash'> & { readonly has_secret: boolean; readonly source: 'registry' };
/** A client declared in the configuration file: shown, never changed at run time. */
export interface ConfiguredAppView {
  readonly client_id: string;
  readonly city: string;
  readonly name: string;
  readonly redirect_uris: readonly string[];
  readonly scope: string;
  readonly first_party: boolean;
  readonly status: 'active';
  readonly source: 'config';
}
export type OperatorView = Omit<Operator, 'key_hash'>;
export interface CitySummary extends MemberCity {
  readonly apps: number;
}
export interface CityView {
  readonly city: MemberCity;
  readonly apps: ReadonlyArray<AppView | ConfiguredAppView>;
}
export interface RegisteredApp extends AppView {
  /** Shown once; only its hash is kept. */
  readonly client_secret?: string;
  readonly issuer: string;
  readonly discovery: string;
}
export interface IssuedInitialAccessToken {
  readonly initial_access_token: string;
  /** How `token list` and `token revoke` name it (the start of its SHA-256). */
  readonly id: string;
  /** Registrations it allows, when limited. */
  readonly uses?: number;
  readonly city: string;
  readonly expires_at: string;
  readonly registration_endpoint: string;
}

export function appView(app: MemberApp): AppView {
  const { secret_hash: secretHash, ...rest } = app;
  return { ...rest, has_secret: secretHash !== undefined, source: 'registry' };
}

export function operatorView(operator: Operator): OperatorView {
  const { key_hash: _hash, ...rest } = operator;
  return rest;
}

export function configuredView(client: ConfiguredClient): ConfiguredAppView {
  return {
    client_id: client.client_id,
    city: client.city,
    name: client.client_name ?? client.client_id,
    redirect_uris: client.redirect_uris,
    scope: client.scope ?? 'openid profile phone offline_access',
    first_party: client.first_party ?? false,
    status: 'active',
    source: 'config',
  };
}
