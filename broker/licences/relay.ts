/**
 * `GET /licences`: an app fetches the electronic licences the person granted it, with its access
 * token. The broker asks the national licence library at that moment with the person's national
 * access token (kept with the session by broker/legal-person), hands the authorities' signed
 * documents over unchanged, keeps nothing of them, and records the release in the audit trail and
 * in the release log that `/account` lists.
 * Every refusal is OAuth JSON (RFC 6750); a company's licences need a current mandate.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { LegalPersons } from '../legal-person/index.ts';
import type { Logger } from '../platform/log.ts';
import { LibraryError, type LicenceLibraryClient } from './library.ts';
import { isLicenceScope, licenceType, licenceTypeOf } from './types.ts';

/** The part of broker/audit's trail a release needs. */
export interface LicenceAudit {
  append(record: { type: 'release'; action: string; client?: string; subject?: string; details?: Record<string, unknown> }): Promise<unknown>;
}

/** The part of broker/release's log a release needs: `/account` lists the app and its licence items. */
export interface LicenceReleases {
  note(release: { accountId: string; clientId: string; scopes: readonly string[] }): Promise<void>;
}

export interface LicenceRelayOptions {
  readonly provider: Provider;
  readonly legalPersons: LegalPersons;
  readonly library: LicenceLibraryClient;
  readonly logger: Logger;
  /** The route, `routes.licences`. */
  readonly path: string;
  /** The app's pairwise `sub` of the person (what the audit entry names). */
  readonly subjectOf: (accountId: string, clientId: string) => Promise<string | undefined>;
  readonly audit?: LicenceAudit;
  /** Where `/account` reads who received what (broker/release/release-log.ts). */
  readonly releases?: LicenceReleases;
}

function refuse(ctx: Context, status: number, error: string, description: string, scope?: string): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  if (status === 401 || status === 403) ctx.set('www-authenticate', `Bearer error="${error}"${scope ? `, scope="${scope}"` : ''}`);
  ctx.body = { error, error_description: description };
}

export function createLicenceRelay(options: LicenceRelayOptions): Router {
  const { provider, legalPersons, library, logger } = options;
  const router = new Router();
  router.get(options.path, async (ctx) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!bearer) return refuse(ctx, 401, 'invalid_token', 'an access token is required (Authorization: Bearer)');
    const token = await provider.AccessToken.find(bearer);
    // Only the app's own tokens for tongban (no resource audience) open this door.
    if (!token?.accountId || !token.grantId || !token.clientId || token.aud) return refuse(ctx, 401, 'invalid_token', 'the access token is not active');
    const [client, grant] = await Promise.all([provider.Client.find(token.clientId), provider.Grant.find(token.grantId)]);
    if (!client || !grant) return refuse(ctx, 401, 'invalid_token', 'the access token is not active');
    // What the person consents to now (a withdrawal counts at once) and the app is still entitled to.
    const entitled = new Set(String(client.scope ?? '').split(' '));
    const consented = new Set(grant.getOIDCScope().split(' '));
    const granted = String(token.scope ?? '').split(' ').filter((s) => isLicenceScope(s) && entitled.has(s) && consented.has(s));
    const asked = typeof ctx.query.type === 'string' ? ctx.query.type.split(',').filter(Boolean) : granted.map((s) => licenceTypeOf(s)!.type);
    if (asked.length === 0) return refuse(ctx, 403, 'insufficient_scope', 'no licence was granted to this app', 'licence:id_card');
    const unknown = asked.filter((t) => !licenceType(t));
    if (unknown.length) return refuse(ctx, 400, 'invalid_request', `unknown licence type ${unknown.join(', ')}`);
    const missing = asked.filter((t) => !granted.includes(`licence:${t}`));
    if (missing.length) return refuse(ctx, 403, 'insufficient_scope', 'the person did not grant, or withdrew, these licences, or the app is not entitled to them', missing.map((t) => `licence:${t}`).join(' '));
    const companyTypes = asked.filter((t) => licenceType(t)!.holder === 'company');
    if (companyTypes.length && companyTypes.length !== asked.length) return refuse(ctx, 400, 'invalid_request', 'ask for a company\'s licences and a person\'s separately');
    const sessionUid = (token as unknown as { sessionUid?: string }).sessionUid;
    const accountId = token.accountId;
    const national = sessionUid ? await legalPersons.nationalAccessOf(sessionUid, accountId) : undefined;
    if (!sessionUid || !national) return refuse(ctx, 401, 'invalid_token', 'the national authorization of this login is over; sign in again');
    let holder: string | undefined;
    if (companyTypes.length) {
      try {
        holder = (await legalPersons.checkActing({ sessionUid })).creditCode;
      } catch (error) {
        logger.info('licence_refused', { code: (error as { code?: string }).code ?? 'mandate_not_current', client: client.clientId });
        return refuse(ctx, 403, 'access_denied', 'the person does not act for a company whose licences they may obtain now');
      }
    }
    let documents;
    try {
      documents = await library.fetchLicences({ nationalAccessToken: national.accessToken, types: asked, ...(holder ? { holder } : {}) });
    } catch (error) {
      if (!(error instanceof LibraryError)) throw error;
      logger.warn('licence_library_failed', { code: `licence_library_${error.failure}`, client: client.clientId });
      if (error.failure === 'refused') return refuse(ctx, 403, 'access_denied', 'the national licence library refused: the mandate does not cover these licences');
      if (error.failure === 'unauthorized') return refuse(ctx, 401, 'invalid_token', 'the national authorization of this login is over; sign in again');
      return refuse(ctx, 503, 'temporarily_unavailable', 'the national licence library is not available; try again later');
    }
    const items = [...new Set(documents.map((d) => `licence:${d.type}`))];
    await options.releases?.note({ accountId, clientId: client.clientId, scopes: items });
    const subject = await options.subjectOf(accountId, client.clientId);
    if (options.audit) {
      await options.audit.append({ type: 'release', action: 'licence.release', client: client.clientId, ...(subject ? { subject } : {}), details: { items, count: documents.length, grant: token.grantId, use: 'licences' } });
    } else {
      logger.info('licence_released', { client: client.clientId, items: items.join(' '), count: documents.length, grant: token.grantId });
    }
    ctx.set('cache-control', 'no-store');
    ctx.body = { licences: documents };
    return undefined;
  });
  return router;
}
