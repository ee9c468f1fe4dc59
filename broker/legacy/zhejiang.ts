/**
 * 浙江 legacy routes (docs/legacy.md):
 *
 * - `GET /zj/sso/usp.do?action=ssoLogin&servicecode=…&goto=…` (or `redirectUrl=…`): the broker
 *   login, then a one-time ticket to the system's registered callback as `ticket` and `st`, with
 *   the return address echoed as `sp`.
 * - `GET|POST /zj/sso/servlet/simpleauth?method=ticketValidation&servicecode&time&sign&st&datatype=json`
 *   and `method=getUserInfo&servicecode&time&sign&token&datatype=json`: JSON with `result`
 *   ("0" or a documented failure code) and `errmsg`.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  parseZhejiangTime, zhejiangLegacyFields, zhejiangLegacyResults, zhejiangSign, zhejiangTicketFields, type ZhejiangLegacyResult,
} from '../../adapters/zhejiang/legacy.ts';
import { legacyCredentialPattern } from './credentials.ts';
import { invalidLegacyRequest, isReturnAddress, unknownSystem } from './login.ts';
import { answerLegacyCall, legacyParams, md5HexPattern, signatureMatches, withinWindow, type LegacyOutcome } from './protocol.ts';
import { legacyServiceCodePattern } from './registry.ts';
import type { LegacyServices } from './services.ts';

const province = 'zhejiang';

interface Answer extends LegacyOutcome {
  readonly result: ZhejiangLegacyResult;
  readonly fields?: Record<string, string>;
  readonly method?: 'ticketValidation' | 'getUserInfo';
}

export function mountZhejiangLegacy(router: Router, services: LegacyServices): void {
  const { registry, credentials, release, login, logger, now } = services;

  router.get('/zj/sso/usp.do', async (ctx) => {
    const params = await legacyParams(ctx);
    if (!params) throw invalidLegacyRequest('parameters malformed');
    if (params.get('action') !== 'ssoLogin') throw invalidLegacyRequest('action is not ssoLogin');
    const servicecode = params.get('servicecode') ?? '';
    if (!legacyServiceCodePattern.test(servicecode)) throw invalidLegacyRequest('servicecode missing or malformed');
    const goto = params.get('goto');
    const redirectUrl = params.get('redirectUrl');
    if (goto !== undefined && redirectUrl !== undefined && goto !== redirectUrl) throw invalidLegacyRequest('goto and redirectUrl differ');
    const returnAddress = goto ?? redirectUrl;
    if (returnAddress !== undefined && !isReturnAddress(returnAddress)) throw invalidLegacyRequest('return address malformed');
    const system = await registry.get(province, servicecode);
    if (!system || system.suspended) throw unknownSystem('servicecode unknown or suspended');
    await login.start(ctx, system, returnAddress);
  });

  async function simpleauth(ctx: Context): Promise<Answer> {
    // HEAD runs GET routes: it must not use up a ticket whose answer nobody reads.
    if (ctx.method === 'HEAD') return { result: 'malformed', reason: 'HEAD' };
    const params = await legacyParams(ctx);
    if (!params) return { result: 'malformed', reason: 'parameters' };
    const method = params.get('method');
    if (method !== 'ticketValidation' && method !== 'getUserInfo') return { result: 'malformed', reason: 'method' };
    const datatype = params.get('datatype');
    if (datatype !== undefined && datatype.toLowerCase() !== 'json') return { result: 'malformed', reason: 'datatype' };
    const servicecode = params.get('servicecode') ?? '';
    const time = params.get('time') ?? '';
    const sign = params.get('sign') ?? '';
    const credential = params.get(method === 'ticketValidation' ? 'st' : 'token') ?? '';
    if (!legacyServiceCodePattern.test(servicecode)) return { result: 'malformed', reason: 'servicecode' };
    const signedAt = parseZhejiangTime(time);
    if (signedAt === undefined) return { result: 'malformed', reason: 'time' };
    if (!md5HexPattern.test(sign)) return { result: 'malformed', reason: 'sign' };
    if (!legacyCredentialPattern.test(credential)) return { result: 'malformed', reason: method === 'ticketValidation' ? 'st' : 'token' };

    const system = await registry.get(province, servicecode);
    if (!system || system.suspended) return { result: 'unknownService' };
    const service = system.serviceCode;
    const known: Pick<Answer, 'service' | 'method'> = { service, method };
    if (!signatureMatches(zhejiangSign(servicecode, system.servicePassword, time), sign)) return { result: 'badSign', ...known };
    if (!withinWindow(signedAt, now())) return { result: 'staleTime', ...known };

    if (method === 'ticketValidation') {
      const grant = await credentials.redeemTicket(credential, province, servicecode);
      const identity = grant && (await release.identityOf(grant));
      if (!grant || !identity) return { result: 'badTicket', ...known };
      const token = await credentials.issueToken(grant);
      const claims = release.claimsFor(system, grant, identity);
      return { result: 'ok', ...known, fields: { token, ...zhejiangLegacyFields(claims, zhejiangTicketFields), orgcoding: '' } };
    }
    const grant = await credentials.findToken(credential, province, servicecode);
    const identity = grant && (await release.identityOf(grant));
    if (!grant || !identity) return { result: 'badToken', ...known };
    return { result: 'ok', ...known, fields: zhejiangLegacyFields(release.claimsFor(system, grant, identity)) };
  }

  const answer = (ctx: Context) => answerLegacyCall(ctx, logger, province, simpleauth, (outcome: Answer) => {
    const { result, errmsg } = zhejiangLegacyResults[outcome.result];
    return { code: result, method: outcome.method, body: { result, errmsg, ...outcome.fields } };
  });
  router.get('/zj/sso/servlet/simpleauth', answer);
  router.post('/zj/sso/servlet/simpleauth', answer);
}
