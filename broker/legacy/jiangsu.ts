/**
 * 江苏 legacy routes (docs/legacy.md):
 *
 * - `GET /js/auth/login.do?app_id=…&return_url=…`: the broker login, then a one-time `ticket` to
 *   the app's registered callback, with `return_url` echoed.
 * - `GET|POST /js/auth/ticketValidate.do` with `app_id`, `timestamp`, `app_sign`, `ticket`: JSON
 *   `{ code, msg, data }`, `data` holding the person in the Jiangsu dialect.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { jiangsuLegacyResults, jiangsuSign, parseJiangsuTimestamp, type JiangsuLegacyResult } from '../../adapters/jiangsu/legacy.ts';
import type { ClaimValue } from '../../adapters/types.ts';
import { legacyCredentialPattern } from './credentials.ts';
import { invalidLegacyRequest, isReturnAddress, unknownSystem } from './login.ts';
import { answerLegacyCall, legacyParams, md5HexPattern, signatureMatches, withinWindow, type LegacyOutcome } from './protocol.ts';
import { legacyServiceCodePattern } from './registry.ts';
import type { LegacyServices } from './services.ts';

const province = 'jiangsu';

interface Answer extends LegacyOutcome {
  readonly result: JiangsuLegacyResult;
  readonly data?: Record<string, ClaimValue>;
}

export function mountJiangsuLegacy(router: Router, services: LegacyServices): void {
  const { registry, credentials, release, login, logger, now } = services;

  router.get('/js/auth/login.do', async (ctx) => {
    const params = await legacyParams(ctx);
    if (!params) throw invalidLegacyRequest('parameters malformed');
    const appId = params.get('app_id') ?? '';
    if (!legacyServiceCodePattern.test(appId)) throw invalidLegacyRequest('app_id missing or malformed');
    const returnUrl = params.get('return_url');
    if (returnUrl !== undefined && !isReturnAddress(returnUrl)) throw invalidLegacyRequest('return_url malformed');
    const system = await registry.get(province, appId);
    if (!system || system.suspended) throw unknownSystem('app_id unknown or suspended');
    await login.start(ctx, system, returnUrl);
  });

  async function ticketValidate(ctx: Context): Promise<Answer> {
    // HEAD runs GET routes: it must not use up a ticket whose answer nobody reads.
    if (ctx.method === 'HEAD') return { result: 'malformed', reason: 'HEAD' };
    const params = await legacyParams(ctx);
    if (!params) return { result: 'malformed', reason: 'parameters' };
    const appId = params.get('app_id') ?? '';
    const timestamp = params.get('timestamp') ?? '';
    const appSign = params.get('app_sign') ?? '';
    const ticket = params.get('ticket') ?? '';
    if (!legacyServiceCodePattern.test(appId)) return { result: 'malformed', reason: 'app_id' };
    const signedAt = parseJiangsuTimestamp(timestamp);
    if (signedAt === undefined) return { result: 'malformed', reason: 'timestamp' };
    if (!md5HexPattern.test(appSign)) return { result: 'malformed', reason: 'app_sign' };
    if (!legacyCredentialPattern.test(ticket)) return { result: 'malformed', reason: 'ticket' };

    const system = await registry.get(province, appId);
    if (!system || system.suspended) return { result: 'unknownApp' };
    const service = system.serviceCode;
    if (!signatureMatches(jiangsuSign(appId, system.servicePassword, timestamp), appSign)) return { result: 'badSign', service };
    if (!withinWindow(signedAt, now())) return { result: 'staleTimestamp', service };
    const grant = await credentials.redeemTicket(ticket, province, appId);
    const identity = grant && (await release.identityOf(grant));
    if (!grant || !identity) return { result: 'badTicket', service };
    return { result: 'ok', service, data: release.claimsFor(system, grant, identity) };
  }

  const answer = (ctx: Context) => answerLegacyCall(ctx, logger, province, ticketValidate, (outcome: Answer) => {
    const { code, msg } = jiangsuLegacyResults[outcome.result];
    return { code, method: 'ticketValidate', body: { code, msg, ...(outcome.data ? { data: outcome.data } : {}) } };
  });
  router.get('/js/auth/ticketValidate.do', answer);
  router.post('/js/auth/ticketValidate.do', answer);
}
