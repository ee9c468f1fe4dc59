/**
 * Apps of member cities registered by operators: register (client id and secret shown once),
 * show, suspend, resume, rotate the secret, remove. Each change is recorded in the audit trail.
 */
import { randomBytes } from 'node:crypto';
import { nameKey, normalisedName, problem } from './checks.ts';
import type { MemberContext } from './context.ts';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import { checkAppInput, usesSecret, type AppInput } from './policy.ts';
import { assertMayGrantScopes } from './purposes.ts';
import { describeHolder } from './client-ids.ts';
import type { Actor, MemberApp } from './types.ts';
import { appView, type AppView, type RegisteredApp } from './views.ts';

/** How long an app name is held while its app is being registered. */
const nameClaimMs = 5_000;

export interface AppOperations {
  registerApp(actor: Actor, input: AppInput): Promise<RegisteredApp>;
  showApp(actor: Actor, clientId: unknown): Promise<AppView>;
  suspendApp(actor: Actor, clientId: unknown): Promise<AppView>;
  resumeApp(actor: Actor, clientId: unknown): Promise<AppView>;
  rotateSecret(actor: Actor, clientId: unknown): Promise<{ readonly client_id: string; readonly client_secret: string }>;
  removeApp(actor: Actor, clientId: unknown): Promise<AppView>;
}

export function createAppOperations({ store, records, mode, issuer, configured, clientIds, takeClientId, verifySector, now, record, existingApp, cityFor, issueKey }: MemberContext): AppOperations {
  async function setStatus(actor: Actor, clientIdInput: unknown, status: MemberApp['status']): Promise<AppView> {
    const app = await existingApp(actor, clientIdInput);
    if (app.status === status) return appView(app);
    const { before, after } = await records.updateApp(app.client_id, (current) => ({ ...current, status, updated_at: now() }));
    await record(actor, status === 'suspended' ? 'app.suspend' : 'app.resume', { type: 'app', id: app.client_id }, app, appView(before!), appView(after!));
    return appView(after!);
  }

  return {
    async registerApp(actor, input) {
      const { value, problems } = checkAppInput(input, { mode, allowFirstParty: true });
      if (!value) throw RegistryError.of(problems);
      const city = await cityFor(actor, value.city);
      assertMayGrantScopes(actor, value.scope.split(' '), `an app of city ${city.code}`);
      await verifySector(value);
      const clientId = value.client_id ?? `${city.code}-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
      // Refused early when plainly taken; taken atomically below, just before the write.
      const holder = value.client_id === undefined ? undefined : await clientIds.holderOf(clientId);
      if (holder) throw problem(RegistryErrorCode.appExists, 'client_id', `client_id "${clientId}" is taken by ${describeHolder(holder)}; app, service, configured and internal client ids share one namespace`);
      const sameName = (name: string) => nameKey(name) === nameKey(value.name);
      const existing = await records.appsOf(city.code);
      if (existing.some((a) => sameName(a.name)) || [...configured.values()].some((c) => c.city === city.code && sameName(c.client_name ?? c.client_id))) {
        throw problem(RegistryErrorCode.appExists, 'name', `city ${city.code} already has an app named "${value.name}"`);
      }
      if (!(await store.claim(`registry:app-name:${city.code}:${normalisedName(value.name)}`, nameClaimMs))) {
        throw problem(RegistryErrorCode.appExists, 'name', `an app named "${value.name}" is being registered in city ${city.code} right now`);
      }
      // Last check before writing: app, service, configured and internal ids are one namespace, taken atomically.
      await takeClientId(clientId);
      const key = usesSecret(value.token_endpoint_auth_method) ? await issueKey() : undefined;
      const at = now();
      const { client_id: _given, ...policy } = value;
      const app: MemberApp = {
        ...policy,
        client_id: clientId,
        province: city.province,
        status: 'active',
        ...(key ? { secret_hash: key.hash, secret_issued_at: at } : {}),
        registered_via: 'operator',
        created_at: at,
        updated_at: at,
        revision: 1,
      };
      try {
        await records.createApp(app);
      } catch (error) {
        await clientIds.release(clientId, { kind: 'app', ref: clientId });
        if (error instanceof RegistryError && error.code === RegistryErrorCode.conflict) throw problem(RegistryErrorCode.appExists, 'client_id', `client_id "${clientId}" is taken`);
        throw error;
      }
      await record(actor, 'app.register', { type: 'app', id: clientId }, app, undefined, appView(app));
      // client_id and the secret first: what an operator copies out of the output.
      const head = { client_id: clientId, ...(key ? { client_secret: key.secret } : {}) };
      return Object.assign(head, appView(app), { issuer, discovery: new URL('/.well-known/openid-configuration', issuer).href });
    },

    async showApp(actor, clientId) {
      return appView(await existingApp(actor, clientId));
    },
    suspendApp: (actor, clientId) => setStatus(actor, clientId, 'suspended'),
    resumeApp: (actor, clientId) => setStatus(actor, clientId, 'active'),

    async rotateSecret(actor, clientIdInput) {
      const app = await existingApp(actor, clientIdInput);
      if (!usesSecret(app.token_endpoint_auth_method)) {
        throw problem(RegistryErrorCode.invalidRequest, 'client_id', `app ${app.client_id} authenticates with ${app.token_endpoint_auth_method} and has no secret; change its keys instead`);
      }
      const key = await issueKey();
      const { before, after } = await records.updateApp(app.client_id, (current) => ({ ...current, secret_hash: key.hash, secret_issued_at: now(), updated_at: now() }));
      await record(actor, 'app.rotate_secret', { type: 'app', id: app.client_id }, app, appView(before!), appView(after!));
      return { client_id: app.client_id, client_secret: key.secret };
    },

    async removeApp(actor, clientIdInput) {
      const app = await existingApp(actor, clientIdInput);
      const removed = await records.removeApp(app.client_id);
      await clientIds.release(app.client_id, { kind: 'app', ref: app.client_id });
      await record(actor, 'app.remove', { type: 'app', id: app.client_id }, app, appView(removed), undefined);
      return appView(removed);
    },
  };
}
