/**
 * Serves every province's legacy protocol (adapters/<province>/legacy.ts) from the one adapter
 * registry: the login entry and the API routes, the system lookup, the ticket and token store and
 * the release behind them. Nothing here names a province.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { LegacyBridgeApi, LegacyCaller, LegacyOutcome, LegacyRedemption } from '../../adapters/legacy.ts';
import { legacyAdapters } from '../../adapters/registry.ts';
import type { LegalPerson } from '../identity/model.ts';
import { isTongbanError } from '../platform/errors.ts';
import { legacyCredentialPattern, type LegacyGrant } from './credentials.ts';
import { invalidLegacyRequest, unknownSystem } from './login.ts';
import { answerLegacyCall, legacyParams, legacyReplayKey, legacyReplayMemoryMs, signatureMatches, withinWindow } from './protocol.ts';
import type { LegacySystem } from './registry.ts';
import type { LegacyServices } from './services.ts';

/** Mounts the login entry and the API of each province with a legacy protocol. */
export function mountLegacyProtocols(router: Router, services: LegacyServices): void {
  for (const { id: province, legacy: protocol } of legacyAdapters()) {
    const { store, registry, credentials, release, login, logger, now, companies } = services;

    /** A company ticket or token: the same mandate check as the OIDC side, now; undefined when not current. */
    const actingOf = async (grant: LegacyGrant & { readonly creditCode: string }): Promise<LegalPerson | undefined> => {
      if (!companies) return undefined;
      try {
        return await companies.checkActing({ sessionUid: grant.sessionUid, creditCode: grant.creditCode });
      } catch (error) {
        // The national platform unreachable is the call's failure (`unavailable`), not a refusal.
        if (!isTongbanError(error) || error.code.startsWith('upstream_')) throw error;
        logger.info('legacy_company_refused', { province, service: grant.serviceCode, code: error.code });
        return undefined;
      }
    };

    const redemption = async (grant: LegacyGrant | undefined, system: LegacySystem, use: 'ticket' | 'token'): Promise<LegacyRedemption | undefined> => {
      const identity = grant && (await release.identityOf(grant));
      if (!grant || !identity) return undefined;
      const creditCode = grant.creditCode;
      const acting = creditCode !== undefined ? await actingOf({ ...grant, creditCode }) : undefined;
      if (creditCode !== undefined && !acting) return undefined;
      const claims = release.claimsFor(system, grant, identity, acting);
      // Noted like an OIDC release: /account, and the audit trail for sensitive items.
      await release.noteRelease(system, grant, use);
      return { claims, issueToken: () => credentials.issueToken(grant) };
    };
    const callerOf = (system: LegacySystem): LegacyCaller => ({
      serviceCode: system.serviceCode,
      servicePassword: system.servicePassword,
      redeemTicket: async (ticket) => redemption(await credentials.redeemTicket(ticket, province, system.serviceCode), system, 'ticket'),
      findToken: async (token) => redemption(await credentials.findToken(token, province, system.serviceCode), system, 'token'),
    });
    const bridge: LegacyBridgeApi = {
      async caller(serviceCode) {
        const system = await registry.get(province, serviceCode);
        return system && !system.suspended ? callerOf(system) : undefined;
      },
      isCredential: (value) => legacyCredentialPattern.test(value),
      signatureMatches,
      withinWindow: (epochMs) => withinWindow(epochMs, now()),
      firstUse: (serviceCode, time, sign) => store.claim(legacyReplayKey(province, serviceCode, time, sign), legacyReplayMemoryMs),
    };

    router.get(protocol.loginPath, async (ctx) => {
      const params = await legacyParams(ctx);
      if (!params) throw invalidLegacyRequest('parameters malformed');
      const entry = protocol.parseLogin(params);
      if ('malformed' in entry) throw invalidLegacyRequest(entry.malformed);
      const system = await registry.get(province, entry.serviceCode);
      if (!system || system.suspended) throw unknownSystem(`${protocol.serviceCodeParam} unknown or suspended`);
      await login.start(ctx, system, entry.returnAddress);
    });

    const call = async (ctx: Context): Promise<LegacyOutcome> => {
      // HEAD runs GET routes: it must not use up a ticket whose answer nobody reads.
      if (ctx.method === 'HEAD') return { result: 'malformed', reason: 'HEAD' };
      const params = await legacyParams(ctx);
      if (!params) return { result: 'malformed', reason: 'parameters' };
      return protocol.call(params, bridge);
    };
    const answer = (ctx: Context) => answerLegacyCall(ctx, logger, province, call, (outcome) => protocol.respond(outcome));
    router.get(protocol.apiPath, answer);
    router.post(protocol.apiPath, answer);
  }
}
