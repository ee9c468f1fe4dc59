/**
 * Resource servers (RFC 8707 resource indicators): the APIs behind the portals — 公积金, 社保,
 * 市场监管 back offices — registered by their member city, with who may ask for them, what they
 * accept, and which other services they may call on a person's behalf (token exchange routes).
 */

import type { AccessTokenFormat, ExchangeRoute } from '../../config/rules/resources.ts';
export type { AccessTokenFormat, ConfiguredResourceServer, ExchangeRoute, ResourceServerInput } from '../../config/rules/resources.ts';

/** A registered resource server, as the registry stores and returns it. */
export interface ResourceServerRecord {
  /** Absolute URI without fragment; the `aud` of its tokens and its `resource` indicator. */
  readonly identifier: string;
  /** GB/T 2260 code of the member city that owns the service; its province decides `sub`. */
  readonly city: string;
  readonly name: string;
  /** Client ids of the apps that may ask for tokens to this resource. */
  readonly clients: readonly string[];
  /** Scopes the resource accepts. Scope names are federation-wide (`gjj:read`), so that a route's scopes can be compared across provinces. */
  readonly scopes: readonly string[];
  readonly accessTokenFormat: AccessTokenFormat;
  /** Access token lifetime, seconds. */
  readonly accessTokenTtl: number;
  /**
   * The service's own confidential client: it authenticates with it to introspect the tokens sent
   * to it and to exchange them along its routes. Registered with no redirect URI and no response
   * type, so it can never log anyone in.
   */
  readonly serviceClientId: string;
  /** Token-exchange routes out of this service. */
  readonly routes: readonly ExchangeRoute[];
  /** Where the record came from: the configuration file (re-applied at every start) or the registry API/CLI. */
  readonly source: 'config' | 'registry';
  readonly createdAt: string;
  readonly updatedAt: string;
}

