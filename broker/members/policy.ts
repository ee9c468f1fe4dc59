/**
 * What an app may be: the rules every registration passes, whether an operator registers it or
 * the app registers itself (RFC 7591), and how an app record becomes OpenID client metadata.
 *
 * - redirect URIs are matched exactly, so they are absolute URLs without fragment or wildcard;
 *   https, except loopback http in development;
 * - redirect URIs may span ports of one host and hosts of one organisation; beyond that the app
 *   publishes a `sector_identifier_uri` listing them all (OIDC Core 8.1, redirect-uris.ts);
 * - post-logout and back-channel logout URIs follow the same URL rules;
 * - scopes come from the broker's list; `id_number` is an entitlement a federation operator grants
 *   (purposes.ts), and the app states a purpose per sensitive item;
 * - the token endpoint authenticates with `client_secret_basic`, `client_secret_post` or
 *   `private_key_jwt` (with `jwks_uri` or `jwks`).
 */
import type { ClientMetadata } from 'oidc-provider';
import { releaseScopes } from '../../adapters/scopes.ts';
import { licenceScopes } from '../licences/types.ts';
import type { Mode } from '../../config/defaults.ts';
import { appUrlProblem } from '../../config/rules/urls.ts';
import { isDivisionCode } from '../identity/identifiers.ts';
import { isMandateScopeList, requiredMandateScopesProperty } from '../release/legal-person.ts';
import { checkOutboundUrl, OutboundRefusal } from '../platform/http/outbound.ts';
import { RegistryErrorCode, type Problem } from './errors.ts';
import { checkPurposes } from './purposes.ts';
import { redirectHostProblem } from './redirect-uris.ts';
import type { MemberApp, PublicJwks, TokenAuthMethod } from './types.ts';

/** Every scope the broker knows (the release scopes plus `offline_access`). */
export const appScopes: readonly string[] = ['openid', 'offline_access', ...releaseScopes.filter((s) => s !== 'openid'), ...licenceScopes];
const tokenAuthMethods: readonly TokenAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
const defaultAppScope = 'openid profile';
/** What a dynamically registered app of a city may ask for unless the city says otherwise: no ID numbers. */
export const defaultRegistrationScopes: readonly string[] = ['openid', 'offline_access', 'profile', 'phone', 'legal_person'];
/** Grants beside `authorization_code`, which every app has. */
const optionalGrants = ['refresh_token'];
const secretMethods = new Set<TokenAuthMethod>(['client_secret_basic', 'client_secret_post']);
const privateJwkMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** What an operator (or a registering app) gives. */
export interface AppInput {
  readonly client_id?: unknown;
  readonly city?: unknown;
  readonly name?: unknown;
  readonly redirect_uris?: unknown;
  readonly post_logout_redirect_uris?: unknown;
  readonly backchannel_logout_uri?: unknown;
  readonly token_endpoint_auth_method?: unknown;
  readonly jwks_uri?: unknown;
  readonly jwks?: unknown;
  readonly grant_types?: unknown;
  readonly scope?: unknown;
  readonly first_party?: unknown;
  readonly purposes?: unknown;
  readonly sector_identifier_uri?: unknown;
  /** Mandate scopes an agent must hold to act for a company here (operators only; docs/legal-persons.md). */
  readonly required_mandate_scopes?: unknown;
}

/** An app's policy, checked and normalised: the settings of a member app (types.ts) it may choose. */
export type AppPolicy = Pick<MemberApp, 'city' | 'name' | 'redirect_uris' | 'post_logout_redirect_uris' | 'backchannel_logout_uri'
  | 'token_endpoint_auth_method' | 'jwks_uri' | 'jwks' | 'grant_types' | 'scope' | 'first_party' | 'purposes'
  | 'sector_identifier_uri' | 'required_mandate_scopes'> & { readonly client_id?: string };

export interface PolicyRules {
  readonly mode: Mode;
  /** Scopes allowed for this registration (default: every scope). */
  readonly allowedScopes?: readonly string[];
  /** Whether the app may be first-party (operators only). */
  readonly allowFirstParty?: boolean;
}

/** Checks one URL an app gives (redirect, post-logout, back-channel, jwks). */
export function checkAppUrl(value: unknown, field: string, mode: Mode, code: RegistryErrorCode = RegistryErrorCode.invalidRedirectUri): Problem | undefined {
  const message = appUrlProblem(value, mode);
  return message === undefined ? undefined : { field, code, message };
}

function stringList(value: unknown, field: string, problems: Problem[], code: RegistryErrorCode): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
    problems.push({ field, code, message: 'must be a list of URLs' });
    return [];
  }
  return list as string[];
}

function checkJwks(value: unknown, problems: Problem[]): PublicJwks | undefined {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || value === null || !Array.isArray(keys) || keys.length === 0) {
    problems.push({ field: 'jwks', code: RegistryErrorCode.invalidAppMetadata, message: 'must be a JWK set with at least one key' });
    return undefined;
  }
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string') {
      problems.push({ field: 'jwks', code: RegistryErrorCode.invalidAppMetadata, message: 'every key needs a kty' });
      return undefined;
    }
    if (privateJwkMembers.some((member) => member in key)) {
      problems.push({ field: 'jwks', code: RegistryErrorCode.invalidAppMetadata, message: 'must hold public keys only' });
      return undefined;
    }
  }
  return { keys: keys as PublicJwks['keys'] };
}

/** Free of control characters (names end up in pages, logs and terminals). */
export function isPrintable(text: string): boolean {
  return !/\p{Cc}/u.test(text);
}

/** Checks an app's input against the rules; every problem is reported, nothing is thrown. */
export function checkAppInput(input: AppInput, rules: PolicyRules): { value?: AppPolicy; problems: Problem[] } {
  const problems: Problem[] = [];
  const { mode } = rules;

  let clientId: string | undefined;
  if (input.client_id !== undefined) {
    if (typeof input.client_id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/.test(input.client_id)) {
      problems.push({ field: 'client_id', code: RegistryErrorCode.invalidAppMetadata, message: '3-64 characters of letters, digits, ".", "_" and "-"' });
    } else if (input.client_id.startsWith('tongban-')) {
      problems.push({ field: 'client_id', code: RegistryErrorCode.invalidAppMetadata, message: 'the prefix "tongban-" is reserved for the broker\'s own clients' });
    } else {
      clientId = input.client_id;
    }
  }

  const city = typeof input.city === 'string' ? input.city : '';
  if (!isDivisionCode(city)) {
    problems.push({ field: 'city', code: RegistryErrorCode.invalidDivisionCode, message: `"${String(input.city ?? '')}" is not a 6-digit GB/T 2260 division code` });
  }

  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > 100 || !isPrintable(name)) {
    problems.push({ field: 'name', code: RegistryErrorCode.invalidAppMetadata, message: 'required, 1-100 printable characters' });
  }

  const redirectUris = stringList(input.redirect_uris, 'redirect_uris', problems, RegistryErrorCode.invalidRedirectUri);
  if (redirectUris.length === 0 && !problems.some((p) => p.field === 'redirect_uris')) {
    problems.push({ field: 'redirect_uris', code: RegistryErrorCode.invalidRedirectUri, message: 'at least one redirect URI is required' });
  }
  for (const uri of redirectUris) {
    const problem = checkAppUrl(uri, 'redirect_uris', mode);
    if (problem) problems.push(problem);
  }
  if (new Set(redirectUris).size !== redirectUris.length) {
    problems.push({ field: 'redirect_uris', code: RegistryErrorCode.invalidRedirectUri, message: 'lists a URI twice' });
  }
  let sectorUri: string | undefined;
  if (input.sector_identifier_uri !== undefined) {
    const problem = checkAppUrl(input.sector_identifier_uri, 'sector_identifier_uri', mode, RegistryErrorCode.invalidAppMetadata);
    if (problem) problems.push(problem);
    else sectorUri = input.sector_identifier_uri as string;
  }
  // OIDC Core 8.1: hostnames (not ports) are sectors; several organisations need a sector_identifier_uri (redirect-uris.ts).
  const hostProblem = redirectHostProblem(redirectUris, input.sector_identifier_uri === undefined ? undefined : String(input.sector_identifier_uri));
  if (hostProblem) problems.push(hostProblem);

  const postLogout = stringList(input.post_logout_redirect_uris, 'post_logout_redirect_uris', problems, RegistryErrorCode.invalidRedirectUri);
  for (const uri of postLogout) {
    const problem = checkAppUrl(uri, 'post_logout_redirect_uris', mode);
    if (problem) problems.push(problem);
  }

  let backchannel: string | undefined;
  if (input.backchannel_logout_uri !== undefined) {
    const problem = checkAppUrl(input.backchannel_logout_uri, 'backchannel_logout_uri', mode);
    if (problem) problems.push(problem);
    else backchannel = input.backchannel_logout_uri as string;
  }

  const method = (input.token_endpoint_auth_method ?? 'client_secret_basic') as TokenAuthMethod;
  if (!tokenAuthMethods.includes(method)) {
    problems.push({ field: 'token_endpoint_auth_method', code: RegistryErrorCode.invalidAppMetadata, message: `must be one of ${tokenAuthMethods.join(', ')}` });
  }
  let jwksUri: string | undefined;
  let jwks: PublicJwks | undefined;
  if (input.jwks_uri !== undefined) {
    const problem = checkAppUrl(input.jwks_uri, 'jwks_uri', mode, RegistryErrorCode.invalidAppMetadata);
    if (problem) problems.push(problem);
    else jwksUri = input.jwks_uri as string;
  }
  if (input.jwks !== undefined) jwks = checkJwks(input.jwks, problems);
  if (method === 'private_key_jwt') {
    if ((input.jwks_uri === undefined) === (input.jwks === undefined)) {
      problems.push({ field: 'jwks_uri', code: RegistryErrorCode.invalidAppMetadata, message: 'private_key_jwt needs exactly one of jwks_uri or jwks' });
    }
  } else if (input.jwks_uri !== undefined || input.jwks !== undefined) {
    problems.push({ field: 'jwks_uri', code: RegistryErrorCode.invalidAppMetadata, message: 'jwks_uri and jwks are only for private_key_jwt' });
  }

  // URLs the broker fetches must not point inside (broker/platform/http/outbound.ts); scheme problems are reported above.
  for (const field of ['backchannel_logout_uri', 'jwks_uri', 'sector_identifier_uri'] as const) {
    const refusal = typeof input[field] === 'string' ? checkOutboundUrl(input[field], mode) : undefined;
    if (refusal?.code === OutboundRefusal.address) problems.push({ field, code: RegistryErrorCode.invalidAppMetadata, message: `"${input[field]}" ${refusal.message}` });
  }

  const grants = new Set(['authorization_code']);
  const askedGrants = input.grant_types === undefined ? [] : (typeof input.grant_types === 'string' ? [input.grant_types] : input.grant_types);
  if (!Array.isArray(askedGrants)) {
    problems.push({ field: 'grant_types', code: RegistryErrorCode.invalidAppMetadata, message: 'must be a list' });
  } else {
    for (const grant of askedGrants) {
      if (grant === 'authorization_code') continue;
      if (typeof grant === 'string' && optionalGrants.includes(grant)) grants.add(grant);
      else problems.push({ field: 'grant_types', code: RegistryErrorCode.invalidAppMetadata, message: `"${String(grant)}" is not offered; authorization_code and refresh_token are` });
    }
  }

  const allowed = rules.allowedScopes ?? appScopes;
  let scope = defaultAppScope;
  if (input.scope !== undefined) {
    if (typeof input.scope !== 'string') {
      problems.push({ field: 'scope', code: RegistryErrorCode.invalidScope, message: 'must be a space-separated string' });
    } else {
      const scopes = input.scope.split(/\s+/).filter(Boolean);
      const unknown = scopes.filter((s) => !appScopes.includes(s));
      const refused = scopes.filter((s) => appScopes.includes(s) && !allowed.includes(s));
      if (unknown.length) problems.push({ field: 'scope', code: RegistryErrorCode.invalidScope, message: `unknown scope ${unknown.join(', ')}; known: ${appScopes.join(' ')}` });
      if (refused.length) problems.push({ field: 'scope', code: RegistryErrorCode.invalidScope, message: `${refused.join(', ')} not allowed here; allowed: ${allowed.join(' ')}` });
      if (!scopes.includes('openid')) problems.push({ field: 'scope', code: RegistryErrorCode.invalidScope, message: 'must include openid' });
      scope = [...new Set(scopes)].join(' ');
    }
  }
  if (!allowed.includes('openid')) problems.push({ field: 'scope', code: RegistryErrorCode.invalidScope, message: 'the allowed scopes lack openid' });

  let firstParty = false;
  if (input.first_party !== undefined) {
    if (typeof input.first_party !== 'boolean') problems.push({ field: 'first_party', code: RegistryErrorCode.invalidAppMetadata, message: 'must be true or false' });
    else if (input.first_party && rules.allowFirstParty === false) problems.push({ field: 'first_party', code: RegistryErrorCode.invalidAppMetadata, message: 'only an operator can make an app first-party' });
    else firstParty = input.first_party;
  }

  const purposes = checkPurposes(input.purposes, scope.split(' '), problems);

  let requiredMandateScopes: readonly string[] | undefined;
  if (input.required_mandate_scopes !== undefined) {
    if (!isMandateScopeList(input.required_mandate_scopes)) {
      problems.push({ field: requiredMandateScopesProperty, code: RegistryErrorCode.invalidAppMetadata, message: 'must be a list of mandate scope names (e.g. "tax")' });
    } else if (input.required_mandate_scopes.length && !scope.split(' ').includes('legal_person')) {
      problems.push({ field: requiredMandateScopesProperty, code: RegistryErrorCode.invalidAppMetadata, message: 'needs legal_person in scope' });
    } else if (input.required_mandate_scopes.length) {
      requiredMandateScopes = [...new Set(input.required_mandate_scopes)];
    }
  }

  if (problems.length) return { problems };
  return {
    problems,
    value: {
      ...(clientId ? { client_id: clientId } : {}),
      city,
      name,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogout,
      ...(backchannel ? { backchannel_logout_uri: backchannel } : {}),
      token_endpoint_auth_method: method,
      ...(jwksUri ? { jwks_uri: jwksUri } : {}),
      ...(jwks ? { jwks } : {}),
      grant_types: [...grants],
      scope,
      first_party: firstParty,
      ...(purposes ? { purposes } : {}),
      ...(sectorUri ? { sector_identifier_uri: sectorUri } : {}),
      ...(requiredMandateScopes ? { required_mandate_scopes: requiredMandateScopes } : {}),
    },
  };
}

/** The app input that OpenID client metadata (an RFC 7591 registration or RFC 7592 update) gives, for `city`. */
export function appInputOfMetadata(metadata: Readonly<Record<string, unknown>>, city: unknown): AppInput {
  return {
    city,
    name: metadata.client_name ?? metadata.client_id,
    redirect_uris: metadata.redirect_uris,
    post_logout_redirect_uris: metadata.post_logout_redirect_uris,
    backchannel_logout_uri: metadata.backchannel_logout_uri,
    token_endpoint_auth_method: metadata.token_endpoint_auth_method,
    jwks_uri: metadata.jwks_uri,
    jwks: metadata.jwks,
    grant_types: metadata.grant_types,
    scope: metadata.scope,
    first_party: metadata.first_party ?? false,
    purposes: metadata.purposes,
    sector_identifier_uri: metadata.sector_identifier_uri,
  };
}

export function usesSecret(method: TokenAuthMethod): boolean {
  return secretMethods.has(method);
}

/** Standard metadata a dynamically registered app may also set, kept as given. */
export const extraMetadata = ['client_uri', 'logo_uri', 'policy_uri', 'tos_uri', 'contacts', 'id_token_signed_response_alg', 'token_endpoint_auth_signing_alg'] as const;

/**
 * The app as oidc-provider's client metadata. The secret's place holds its hash: oidc-provider
 * requires a `client_secret` for the secret methods, and the broker compares presented secrets
 * against the hash itself (see oidc.ts); no HMAC algorithm is enabled that would use it as a key.
 */
export function clientMetadataOfApp(app: MemberApp): ClientMetadata {
  const secret = usesSecret(app.token_endpoint_auth_method) && app.secret_hash;
  return {
    ...app.extra,
    client_id: app.client_id,
    client_id_issued_at: Math.floor(Date.parse(app.created_at) / 1000),
    ...(secret ? { client_secret: app.secret_hash, client_secret_expires_at: 0 } : {}),
    client_name: app.name,
    redirect_uris: [...app.redirect_uris],
    post_logout_redirect_uris: [...app.post_logout_redirect_uris],
    grant_types: [...app.grant_types],
    response_types: ['code'],
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    ...(app.jwks_uri ? { jwks_uri: app.jwks_uri } : {}),
    ...(app.jwks ? { jwks: { keys: app.jwks.keys.map((k) => ({ ...k })) } } : {}),
    id_token_signed_response_alg: (app.extra?.id_token_signed_response_alg as string | undefined) ?? 'ES256',
    subject_type: 'pairwise',
    ...(app.backchannel_logout_uri ? { backchannel_logout_uri: app.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    scope: app.scope,
    city: app.city,
    first_party: app.first_party,
    ...(app.purposes ? { purposes: { ...app.purposes } } : {}),
    ...(app.required_mandate_scopes?.length ? { [requiredMandateScopesProperty]: [...app.required_mandate_scopes] } : {}),
  } as ClientMetadata;
}
