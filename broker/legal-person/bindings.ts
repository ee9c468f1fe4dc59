/**
 * Grants bound to a company: each grant (so its code, tokens and every rotated refresh token) acts
 * for the company chosen when it was issued, and a refresh confirms the mandate with the national
 * platform first; an ended mandate revokes every token of the grant.
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import { currentRepresentations, type Representation } from '../identity/model.ts';
import { hasScope, pick, refused, type LegalPersonKit } from './kit.ts';
import type { MandateCheck } from './mandates.ts';
import { legalPersonScope } from './names.ts';
import type { GrantBinding } from './records.ts';

export interface GrantBindings {
  /** The binding of a grant, read once per request. */
  bindingOf(ctx: object, grantId: string): Promise<GrantBinding | undefined>;
  /** Binds the request's grant to the chosen company; false when it already acts for another one. */
  bind(ctx: KoaContextWithOIDC, sessionUid: string, accountId: string, acting: Representation): Promise<boolean>;
  /** On a refresh: the binding with its mandate confirmed now; refuses with `invalid_grant` otherwise. */
  confirmForRefresh(ctx: KoaContextWithOIDC, grantId: string, binding: GrantBinding | undefined): Promise<GrantBinding>;
  /** Ends every token of a grant whose mandate has ended, and its binding. */
  endGrant(ctx: KoaContextWithOIDC, grantId: string): Promise<void>;
  /** The token a request uses or is issuing, if it acts under the `legal_person` scope. */
  legalPersonToken(ctx: KoaContextWithOIDC): { grantId: string } | undefined;
}

export function createGrantBindings({ options, records, nowSeconds, remaining }: LegalPersonKit, { confirmInProvider }: MandateCheck): GrantBindings {
  const { logger } = options;
  const bindings = new WeakMap<object, Map<string, Promise<GrantBinding | undefined>>>();

  function bindingOf(ctx: object, grantId: string): Promise<GrantBinding | undefined> {
    let perRequest = bindings.get(ctx);
    if (!perRequest) {
      perRequest = new Map();
      bindings.set(ctx, perRequest);
    }
    let found = perRequest.get(grantId);
    if (!found) {
      found = records.binding(grantId);
      perRequest.set(grantId, found);
    }
    return found;
  }

  /** A binding lasts as long as its grant. */
  function bindingTtl(grant: Grant | undefined): number {
    const exp = (grant as unknown as { exp?: number } | undefined)?.exp;
    return Math.max(typeof exp === 'number' ? exp - nowSeconds() : options.grantTtlSeconds, 1);
  }

  async function bind(ctx: KoaContextWithOIDC, sessionUid: string, accountId: string, acting: Representation): Promise<boolean> {
    const grant = ctx.oidc.grant;
    // A grant that is not saved yet waits for consent; the check binds it when the flow resumes.
    if (!grant?.jti) return true;
    const existing = await bindingOf(ctx, grant.jti);
    if (existing && existing.acting.creditCode !== acting.creditCode) return false;
    const binding: GrantBinding = { sessionUid, accountId, acting, boundAt: nowSeconds() };
    await records.saveBinding(grant.jti, binding, bindingTtl(grant));
    bindings.get(ctx)?.set(grant.jti, Promise.resolve(binding));
    return true;
  }

  async function endGrant(ctx: KoaContextWithOIDC, grantId: string): Promise<void> {
    // Every token of this authorization acted for the company: none of them may go on.
    const { provider } = ctx.oidc;
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
    ]);
    await (await provider.Grant.find(grantId))?.destroy();
    await records.removeBinding(grantId);
  }

  async function confirmForRefresh(ctx: KoaContextWithOIDC, grantId: string, binding: GrantBinding | undefined): Promise<GrantBinding> {
    if (!binding) throw refused('the company this refresh token acts for is no longer known; sign in again');
    const record = await records.session(binding.sessionUid);
    if (!record || record.accountId !== binding.accountId) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: 'session ended', at: 'refresh' });
      throw refused('the company mandate can no longer be confirmed with the national platform (the login session has ended); sign in again');
    }
    const confirmation = await confirmInProvider(record);
    if ('unverifiable' in confirmation) {
      logger.info('mandate_unverifiable', { code: 'mandate_unverifiable', reason: confirmation.unverifiable, at: 'refresh' });
      throw refused('the company mandate can no longer be confirmed with the national platform; sign in again');
    }
    await records.saveSession(binding.sessionUid, confirmation.record, remaining(confirmation.record));
    const current = pick(currentRepresentations(confirmation.record, nowSeconds()), binding.acting.creditCode);
    if (!current) {
      await endGrant(ctx, grantId);
      logger.info('mandate_not_current', { code: 'mandate_not_current', at: 'refresh', client: ctx.oidc.client?.clientId });
      throw refused('the mandate to act for this company has expired or was revoked at the national platform');
    }
    const updated: GrantBinding = { ...binding, acting: current };
    await records.saveBinding(grantId, updated, bindingTtl(ctx.oidc.grant));
    bindings.get(ctx)?.set(grantId, Promise.resolve(updated));
    return updated;
  }

  function legalPersonToken(ctx: KoaContextWithOIDC): { grantId: string } | undefined {
    const { AccessToken, RefreshToken, AuthorizationCode } = ctx.oidc.entities;
    const token = AccessToken ?? RefreshToken ?? AuthorizationCode;
    if (!token?.grantId || !hasScope(token.scope, legalPersonScope)) return undefined;
    return { grantId: token.grantId };
  }

  return { bindingOf, bind, confirmForRefresh, endGrant, legalPersonToken };
}
