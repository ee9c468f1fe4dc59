/**
 * Registration of apps by the apps themselves: initial access tokens bound to a member city, and
 * the apps oidc-provider registers (RFC 7591), updates or deletes (RFC 7592) stored as member apps.
 */
import { checkClientId, checkCode, nameKey, problem, whereCity } from './checks.ts';
import type { MemberContext } from './context.ts';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import { assertProvince } from './actors.ts';
import { createInitialAccessTokenLedger, type InitialAccessTokenEntry, type TokenUse } from './initial-access-token-ledger.ts';
import { createInitialAccessTokenMinter, type InitialAccessTokenMinter } from './initial-access-tokens.ts';
import { provinceOf } from '../identity/identifiers.ts';
import { appInputOfMetadata, checkAppInput, extraMetadata, usesSecret } from './policy.ts';
import { isSecretHash } from '../platform/crypto/client-secrets.ts';
import type { Actor, MemberApp } from './types.ts';
import { appView, type IssuedInitialAccessToken } from './views.ts';
import { routes } from '../../config/defaults.ts';

const minTokenTtl = 60;
const maxTokenTtl = 30 * 24 * 3600;
const maxTokenUses = 1000;
const defaultTokenTtl = 24 * 3600;

export interface RegistrationOperations {
  /** `uses`: how many registrations the token allows (1 = single use); absent, any number until it expires. */
  issueInitialAccessToken(actor: Actor, input: { readonly city?: unknown; readonly ttl_seconds?: unknown; readonly uses?: unknown }): Promise<IssuedInitialAccessToken>;
  /** The tokens not yet expired (never the tokens themselves), those of the actor's province only. */
  listInitialAccessTokens(actor: Actor): Promise<InitialAccessTokenEntry[]>;
  /** Revokes a token by its id: no registration is accepted with it any more. */
  revokeInitialAccessToken(actor: Actor, id: unknown): Promise<InitialAccessTokenEntry>;
  /** Takes one use of a token at registration (the `member-city` policy, oidc.ts). */
  useInitialAccessToken(token: string): Promise<TokenUse>;
  /** Stores an app oidc-provider registered (RFC 7591) or updated (RFC 7592). */
  saveRegisteredClient(metadata: Readonly<Record<string, unknown>>, actor: Actor): Promise<MemberApp>;
  /** Removes an app at its own request (RFC 7592 delete). */
  removeRegisteredClient(clientId: string, actor: Actor): Promise<void>;
}

export function createRegistrationOperations({ options, store, records, secrets, mode, issuer, clientIds, takeClientId, now, record, cityFor }: MemberContext): RegistrationOperations {
  const ledger = createInitialAccessTokenLedger(store);
  const registrationEndpoint = new URL(options.registrationPath ?? routes.oidc.registration, issuer).href;
  let minter: InitialAccessTokenMinter | undefined;

  return {
    async issueInitialAccessToken(actor, input) {
      const city = await cityFor(actor, input.city);
      let ttl = defaultTokenTtl;
      if (input.ttl_seconds !== undefined) {
        const n = Number(input.ttl_seconds);
        if (!Number.isInteger(n) || n < minTokenTtl || n > maxTokenTtl) throw problem(RegistryErrorCode.invalidRequest, 'ttl_seconds', `must be an integer ${minTokenTtl}-${maxTokenTtl}`);
        ttl = n;
      }
      let uses: number | undefined;
      if (input.uses !== undefined) {
        uses = Number(input.uses);
        if (!Number.isInteger(uses) || uses < 1 || uses > maxTokenUses) throw problem(RegistryErrorCode.invalidRequest, 'uses', `must be an integer 1-${maxTokenUses}`);
      }
      minter ??= createInitialAccessTokenMinter(options.oidcAdapter, issuer);
      const token = await minter(ttl);
      const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
      await records.bindInitialAccessToken(token, { city: city.code, issued_by: actor, expires_at: expiresAt }, ttl * 1000 + 5000);
      // The token itself is never recorded; its digest identifies it in the trail and the list.
      const id = await ledger.record(token, { city: city.code, issued_by: actor, expires_at: expiresAt, ...(uses ? { uses } : {}) }, ttl * 1000 + 5000);
      await record(actor, 'initial_access_token.issue', { type: 'initial_access_token', id }, whereCity(city), undefined, { city: city.code, expires_at: expiresAt, ...(uses ? { uses } : {}) });
      return { initial_access_token: token, id, city: city.code, expires_at: expiresAt, ...(uses ? { uses } : {}), registration_endpoint: registrationEndpoint };
    },

    async listInitialAccessTokens(actor) {
      const all = await ledger.list();
      return actor.kind === 'operator' && actor.role === 'province' ? all.filter((t) => provinceOf(t.city) === actor.province) : all;
    },

    async revokeInitialAccessToken(actor, idInput) {
      const id = String(idInput ?? '');
      const entry = /^[\w-]{16}$/.test(id) ? await ledger.get(id) : undefined;
      if (!entry) throw problem(RegistryErrorCode.invalidRequest, 'id', `no initial access token with id "${id}" (see token list)`);
      assertProvince(actor, provinceOf(entry.city), `initial access token ${id}`);
      const revoked = (await ledger.revoke(id, now()))!;
      await record(actor, 'initial_access_token.revoke', { type: 'initial_access_token', id }, { city: entry.city, province: provinceOf(entry.city) }, entry, revoked);
      return revoked;
    },

    useInitialAccessToken: (token) => ledger.use(token),

    async saveRegisteredClient(metadata, actor) {
      const clientId = checkClientId(metadata.client_id);
      const city = await records.city(checkCode(metadata.city, 'city'));
      if (!city) throw problem(RegistryErrorCode.cityNotFound, 'city', `city ${String(metadata.city)} is not a member of the federation`);
      const { value, problems } = checkAppInput(appInputOfMetadata(metadata, metadata.city), { mode, allowedScopes: city.registration_scopes, allowFirstParty: false });
      if (!value) throw RegistryError.of(problems);
      const secret = metadata.client_secret;
      const secretHash = !usesSecret(value.token_endpoint_auth_method) || typeof secret !== 'string'
        ? undefined
        // oidc-provider generated it (512 random bits): the keyed hash.
        : isSecretHash(secret) ? secret : await secrets.hash(secret);
      const extra: Record<string, unknown> = {};
      for (const key of extraMetadata) if (metadata[key] !== undefined) extra[key] = metadata[key];
      const at = now();
      const fields = {
        ...value,
        client_id: clientId,
        province: city.province,
        extra,
        ...(secretHash ? { secret_hash: secretHash } : {}),
        updated_at: at,
      };
      const existing = await records.app(clientId, { fresh: true });
      const sameName = (await records.appsOf(city.code)).find((a) => a.client_id !== clientId && nameKey(a.name) === nameKey(value.name));
      if (sameName) throw problem(RegistryErrorCode.appExists, 'client_name', `city ${city.code} already has an app named "${value.name}"`);
      // Registered and updated alike: the id must be this app's in the one client-id namespace.
      await takeClientId(clientId);
      if (existing) {
        if (existing.city !== city.code) throw problem(RegistryErrorCode.invalidAppMetadata, 'city', 'an app cannot move to another city');
        const { before, after } = await records.updateApp(clientId, (current) => {
          const { secret_hash: _old, secret_issued_at: _issued, ...kept } = current;
          return {
            ...kept,
            ...fields,
            ...(secretHash ? { secret_issued_at: secretHash === current.secret_hash ? current.secret_issued_at ?? at : at } : {}),
          };
        });
        await record(actor, 'app.update', { type: 'app', id: clientId }, whereCity(city), appView(before!), appView(after!));
        return after!;
      }
      const app: MemberApp = {
        ...fields,
        status: 'active',
        ...(secretHash ? { secret_issued_at: at } : {}),
        registered_via: 'dynamic_registration',
        created_at: at,
        revision: 1,
      };
      await records.createApp(app);
      await record(actor, 'app.register', { type: 'app', id: clientId }, whereCity(city), undefined, appView(app));
      return app;
    },

    async removeRegisteredClient(clientId, actor) {
      const app = await records.app(clientId, { fresh: true });
      if (!app) return;
      const removed = await records.removeApp(clientId);
      await clientIds.release(clientId, { kind: 'app', ref: clientId });
      await record(actor, 'app.remove', { type: 'app', id: clientId }, app, appView(removed), undefined);
    },
  };
}
