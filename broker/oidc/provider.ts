/**
 * The oidc-provider configuration of the broker, in one place. Each option says why it is set.
 */
import Provider, { errors, interactionPolicy, type AdapterFactory, type ClientMetadata, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import { routePath, routes, tunables, type ConfiguredClient, type TongbanConfig } from '../../config/defaults.ts';
import type { BrokerKeys } from './keys.ts';
import type { ClaimsRelease } from '../release/oidc.ts';
import { acrValues, levelOfAcr } from '../identity/assurance.ts';
import { createGuardedFetch } from '../platform/http/outbound.ts';
import { nationalSignOutStatement, readSignedOut } from '../logout/signed-out.ts';
import { errorPage, html, page } from '../platform/pages/layout.ts';
import { localized, t } from '../platform/i18n/index.ts';
import { describeOAuthError } from '../platform/pages/oauth-errors.ts';
import { requestedLevel } from '../login/assurance-policy.ts';
import type { ResourceServers } from '../resources/index.ts';
import type { LegalPersons } from '../legal-person/index.ts';
import { isLegalPersonSubject, isMandateScopeList, legalPersonSubjectOf, legalPersonSubjectProperty, requiredMandateScopesProperty } from '../release/legal-person.ts';
import type { MemberRegistry } from '../members/index.ts';
import { clientAdapter, registrationOf } from './extensions.ts';
import { licenceScopes } from '../licences/types.ts';
import { carrySensitiveConsent, isPurposes, isSensitive, sensitiveAmong } from '../release/sensitive.ts';
import { applyConsentRecord, type ConsentRecords } from '../release/consent-records.ts';

export const supportedScopes = ['openid', 'offline_access', 'profile', 'phone', 'id_number', 'legal_person', ...licenceScopes] as const;

/** A configured client in oidc-provider's metadata terms. */
export function clientMetadataOf(client: ConfiguredClient): ClientMetadata {
  const grants = client.grant_types ?? ['authorization_code'];
  return {
    client_id: client.client_id,
    ...(client.client_secret ? { client_secret: client.client_secret } : {}),
    client_name: client.client_name ?? client.client_id,
    redirect_uris: [...client.redirect_uris],
    post_logout_redirect_uris: [...(client.post_logout_redirect_uris ?? [])],
    grant_types: grants.includes('authorization_code') ? [...grants] : ['authorization_code', ...grants],
    response_types: ['code'],
    token_endpoint_auth_method: (client.token_endpoint_auth_method ?? (client.client_secret ? 'client_secret_basic' : 'none')) as ClientMetadata['token_endpoint_auth_method'],
    id_token_signed_response_alg: (client.id_token_signed_response_alg ?? 'ES256') as ClientMetadata['id_token_signed_response_alg'],
    subject_type: 'pairwise',
    ...(client.backchannel_logout_uri ? { backchannel_logout_uri: client.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    scope: client.scope ?? 'openid profile phone offline_access',
    city: client.city,
    first_party: client.first_party ?? false,
    ...(client.purposes ? { purposes: { ...client.purposes } } : {}),
    ...(client.legal_person_subject ? { [legalPersonSubjectProperty]: client.legal_person_subject } : {}),
    ...(client.required_mandate_scopes?.length ? { [requiredMandateScopesProperty]: [...client.required_mandate_scopes] } : {}),
  };
}

function acrLevelCheck(): InstanceType<typeof interactionPolicy.Check> {
  // prompt=none gets login_required: reaching the level takes a new authentication.
  return new interactionPolicy.Check('acr_level', 'a higher assurance level is requested', 'login_required', (ctx: KoaContextWithOIDC) => {
    const wanted = requestedLevel(ctx.oidc.params as Record<string, unknown>, ctx.oidc.claims);
    if (wanted === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const session = ctx.oidc.session;
    const current = session?.acr ? levelOfAcr(session.acr) : undefined;
    if (session?.accountId && current !== undefined && current >= wanted) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    return interactionPolicy.Check.REQUEST_PROMPT;
  });
}

export interface ProviderOptions {
  readonly config: TongbanConfig;
  readonly keys: BrokerKeys;
  /** oidc-provider's storage adapter (oidc/adapter.ts), the one the broker's tools also write with. */
  readonly adapter: AdapterFactory;
  readonly release: ClaimsRelease;
  readonly findAccount: FindAccount;
  /** Resource servers (RFC 8707), their token policy and token exchange (docs/relying-services.md). */
  readonly resources?: ResourceServers;
  /** Company logins: the company choice prompt, per-grant companies, company subjects (docs/legal-persons.md). */
  readonly legalPersons?: LegalPersons;
  /** Member cities' apps, served as clients from the store, and dynamic registration (docs/operators.md). */
  readonly registry?: MemberRegistry;
  /** The person's answers on sensitive items per app, kept across sessions (release/consent-records.ts). */
  readonly consents?: ConsentRecords;
}

export function createProvider({ config, keys, adapter, release, findAccount, resources, legalPersons, registry, consents }: ProviderOptions): Provider {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  // Levels are ordered: acr_level accepts any level at or above the one asked for, where the
  // built-in essential_acr(s) checks demand an exact match and would send a higher session round.
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(acrLevelCheck());
  if (legalPersons) {
    // After login, before consent: the person chooses the company (prompt=select_account re-opens it).
    login.checks.add(legalPersons.loginCheck);
    policy.add(legalPersons.prompt, policy.indexOf(login) + 1);
  }
  const prefix = config.cookiePrefix;

  const configuration: Configuration = {
    adapter: clientAdapter(adapter, registry, resources),
    clients: config.clients.map(clientMetadataOf),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: {
      properties: ['city', 'first_party', legalPersonSubjectProperty, requiredMandateScopesProperty, 'purposes'],
      validator(_ctx, key, value) {
        if (key === 'city' && (typeof value !== 'string' || !/^\d{6}$/.test(value))) {
          throw new errors.InvalidClientMetadata('city must be a 6-digit GB/T 2260 division code');
        }
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata('first_party must be a boolean');
        }
        if (key === 'purposes' && value !== undefined && !isPurposes(value)) {
          throw new errors.InvalidClientMetadata('purposes must map scopes to the purpose stated for each');
        }
        if (key === legalPersonSubjectProperty && value !== undefined && !isLegalPersonSubject(value)) {
          throw new errors.InvalidClientMetadata(`${legalPersonSubjectProperty} must be "person" or "company"`);
        }
        if (key === requiredMandateScopesProperty && value !== undefined && !isMandateScopeList(value)) {
          throw new errors.InvalidClientMetadata(`${requiredMandateScopesProperty} must be a list of mandate scope names`);
        }
      },
    },
    jwks: { keys: keys.signing as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: keys.cookieKeys,
      names: { session: `${prefix}_session`, interaction: `${prefix}_interaction`, resume: `${prefix}_resume` },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    scopes: [...supportedScopes],
    claims: release.claimsConfiguration,
    acrValues,
    subjectTypes: ['pairwise'],
    // A person's pairwise `sub` is worked out at once; only a company-subject app waits for the grant's company.
    pairwiseIdentifier: (ctx, accountId, client) => (legalPersons && legalPersonSubjectOf(client) === 'company'
      ? legalPersons.subjectFor(ctx, client).then((company) => company ?? release.subjectFor(accountId, client))
      : release.subjectFor(accountId, client)),
    findAccount,
    // Portals read the dialect from the ID token as well as from userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Always rotates; a refused `resource` is refused before, so the app keeps its refresh token.
    rotateRefreshToken: resources ? (ctx) => resources.rotateRefreshToken(ctx) : true,
    // Refresh tokens go to clients registered for the grant, with or without offline_access.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && (code.scopes.has('openid')),
    ...(resources ? { extraTokenClaims: resources.extraTokenClaims, formats: { customizers: { jwt: resources.customizeJwt } } } : {}),
    features: {
      devInteractions: { enabled: false },
      ...registrationOf(registry),
      claimsParameter: { enabled: true },
      introspection: {
        enabled: true,
        // A company's token whose mandate ended is inactive at once (docs/legal-persons.md).
        ...(resources || legalPersons ? {
          allowedPolicy: async (ctx, client, token) => (resources ? await resources.introspectionAllowedPolicy(ctx, client, token) : !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client?.clientId))
            && (legalPersons ? await legalPersons.activeInUse(ctx) : true),
        } : {}),
      },
      // RFC 9701: services whose client asks for it get the introspection answer as a signed JWT.
      jwtIntrospection: { enabled: true },
      ...(resources ? { resourceIndicators: resources.resourceIndicators } : {}),
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page({
            title: t('logout.title'),
            body: html`${{ html: form }}<p>${t('logout.question')}</p>
<p>${t('logout.national')}</p>
<p><button form="op.logoutForm" type="submit" name="logout" value="yes">${t('logout.confirm')}</button>
<button form="op.logoutForm" type="submit" class="secondary">${ctx.oidc.client ? t('logout.appOnly') : t('logout.stay')}</button></p>`,
          });
        },
        async postLogoutSuccessSource(ctx) {
          // Says plainly whether the national session ended too (broker/logout/signed-out.ts).
          const national = nationalSignOutStatement(readSignedOut(ctx, config.cookiePrefix));
          ctx.type = 'html';
          ctx.body = page({
            title: t('signedOut.title'),
            body: html`<p>${t('signedOut.text')}</p>${national
              ? html`<p id="national-sign-out">${localized(national)}</p>` : ''}`,
          });
        },
      },
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => routePath(routes.interaction.start, interaction.uid),
    },
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session?.grantIdFor(client!.clientId);
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      // A grant keeps the company it was issued for; another company chosen since gets a new grant.
      let before: typeof grant;
      if (grant && legalPersons && !(await legalPersons.grantActsForChoice(ctx, grant))) [before, grant] = [grant, undefined];
      const firstParty = (client as unknown as { first_party?: boolean }).first_party === true;
      // The answers on sensitive items outlive the session: a new sign-in starts from them. They
      // matter only when the request asks for a sensitive item (by scope, or through claims).
      const scopes = [...(ctx.oidc.requestParamScopes ?? [])];
      const asksSensitive = sensitiveAmong(scopes).length > 0 || (ctx.oidc.requestParamClaims?.size ?? 0) > 0;
      const remembered = asksSensitive ? await consents?.find(session!.accountId!, client!.clientId) : undefined;
      if (!firstParty) {
        if (!remembered) return grant;
        grant ??= new ctx.oidc.provider.Grant({ clientId: client!.clientId, accountId: session!.accountId! });
        applyConsentRecord(grant, remembered);
        await grant.save();
        return grant;
      }
      // First-party apps need no consent for ordinary items: their grant covers what they asked for.
      // Sensitive items still need the person's separate consent (release/sensitive.ts), so they are
      // left to the consent prompt unless the grant already holds (or refused) them.
      grant ??= new ctx.oidc.provider.Grant({ clientId: client!.clientId, accountId: session!.accountId! });
      grant.addOIDCScope(scopes.filter((scope) => !isSensitive(scope)).join(' '));
      // The person's answers on sensitive items are per app: a grant for another company keeps them.
      if (before) carrySensitiveConsent(before, grant);
      applyConsentRecord(grant, remembered);
      const claims = ctx.oidc.requestParamClaims;
      if (claims?.size) grant.addOIDCClaims([...claims]);
      resources?.grantRequestedResources(ctx, grant);
      await grant.save();
      return grant;
    },
    ttl: {
      Session: config.ttl.session,
      Interaction: config.ttl.interaction,
      AuthorizationCode: config.ttl.authorizationCode,
      AccessToken: resources ? resources.accessTokenTtl(config.ttl.accessToken) : config.ttl.accessToken,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Grant: config.ttl.grant,
    },
    clockTolerance: tunables.clockToleranceSeconds,
    routes: { ...routes.oidc },
    // jwks_uri and sector_identifier_uri are fetched under the outbound URL rules (docs/security.md).
    fetch: createGuardedFetch({ mode: config.mode, timeoutMs: tunables.providerFetchTimeoutMs }) as Configuration['fetch'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256', 'PS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256', 'PS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256', 'PS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256', 'PS256'],
    },
    async renderError(ctx, out) {
      const described = describeOAuthError(out.error, out.error_description);
      ctx.type = 'html';
      ctx.body = errorPage({ code: described.code, message: described.messageEn, messageZh: described.messageZh, ...(described.technical ? { technical: described.technical } : {}) });
    },
  };
  return new Provider(config.issuer, configuration);
}
