/**
 * Outgoing back-channel logout: the logout token, issued by oidc-provider's own IdToken model
 * exactly as its `Client#backchannelLogout` does (same keys, algorithm per client, pairwise `sub`,
 * `typ: logout+jwt`, two minutes of validity), and one POST of it to the app.
 */
import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Client } from 'oidc-provider';
import { DeliveryFailure, type Deliver } from './queue.ts';

export const backchannelLogoutEvent = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token for `accountId` at `client`; a fresh `jti` and `iat` each time. */
export async function issueLogoutToken(provider: Provider, client: Client, accountId: string, sid: string | undefined): Promise<string> {
  const token = new provider.IdToken({ sub: accountId }, { client });
  // Only `sub` of the account's claims goes in (pairwise for the client's province).
  (token as unknown as { mask: Record<string, null> }).mask = { sub: null };
  token.set('events', { [backchannelLogoutEvent]: {} });
  token.set('jti', randomUUID());
  if (sid) token.set('sid', sid);
  return token.issue({ use: 'logout' });
}

export interface DeliverOptions {
  readonly provider: Provider;
  readonly timeoutMs: number;
  /** The outbound fetch (broker/platform/http/outbound.ts applies the address rules); default the global fetch. */
  readonly fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

/** Sends a queued delivery to the app's `backchannel_logout_uri`; 200 or 204 is success (spec §2.8). */
export function createDeliver({ provider, timeoutMs, fetch = globalThis.fetch }: DeliverOptions): Deliver {
  return async (delivery) => {
    const client = await provider.Client.find(delivery.clientId).catch(() => undefined);
    if (!client) throw new DeliveryFailure('client_unknown', { permanent: true });
    const uri = client.backchannelLogoutUri;
    if (!uri) throw new DeliveryFailure('no_backchannel_logout_uri', { permanent: true });
    const logoutToken = await issueLogoutToken(provider, client, delivery.accountId, delivery.sid);
    let response: Response;
    try {
      response = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ logout_token: logoutToken }),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error)?.name;
      const refused = ((error as { cause?: { name?: string } })?.cause)?.name === 'OutboundRefused';
      throw new DeliveryFailure(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : refused ? 'address_refused' : 'unreachable', { cause: error });
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 200 && response.status !== 204) throw new DeliveryFailure(`http_${response.status}`);
  };
}
