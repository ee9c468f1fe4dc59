/**
 * Resource servers (RFC 8707 resource indicators): the APIs behind the portals — 公积金, 社保,
 * 市场监管 back offices — registered by their member city, with who may ask for them, what they
 * accept, and which other services they may call on a person's behalf (token exchange routes).
 */

/** How access tokens for a resource look: a JWT it checks alone (RFC 9068) or an opaque handle it introspects. */
export type AccessTokenFormat = 'jwt' | 'opaque';

/** One configured token-exchange route: the owning service may call `target` for these scopes. */
export interface ExchangeRoute {
  /** Identifier (resource indicator) of the service called. */
  readonly target: string;
  /** Scopes the call may carry; a token exchange never asks for more. */
  readonly scopes: readonly string[];
}

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

/** What an operator gives to register a resource server (config file entry, CLI, admin API). */
export interface ResourceServerInput {
  readonly identifier: string;
  readonly city: string;
  readonly name?: string;
  readonly clients?: readonly string[];
  readonly scopes: readonly string[];
  /** Default `jwt`. */
  readonly accessTokenFormat?: AccessTokenFormat;
  /** Seconds; default 300. */
  readonly accessTokenTtl?: number;
  /** The service's own client id; default derived from the identifier's host and path. */
  readonly serviceClientId?: string;
  /** The service client's secret (32+ characters); generated when omitted. */
  readonly serviceClientSecret?: string;
  readonly routes?: readonly ExchangeRoute[];
}

/** A resource server declared in the configuration file (`resources: [...]`). */
export type ConfiguredResourceServer = ResourceServerInput;
