/**
 * National logout without a browser: logout tokens signed with the simulator's key, POSTed to each
 * client's `backchannel_logout_uri` (OpenID Connect Back-Channel Logout 1.0).
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { BackchannelDelivery, SimulatorClient } from './contract.ts';
import { accountState, sessionsOf, type SimulatorState } from './state.ts';

const backchannelLogoutEvent = 'http://schemas.openid.net/event/backchannel-logout';

/** A back-channel logout token for a person and client, signed with the simulator's key. */
export async function logoutToken(sim: SimulatorState, username: string, clientId: string, sid?: string): Promise<string> {
  const client = sim.clients.get(clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  const key = sim.keys.get(client.id_token_signed_response_alg ?? 'RS256');
  if (!key) throw new Error('the simulator has not been started');
  const iat = sim.nowSeconds();
  return new SignJWT({ events: { [backchannelLogoutEvent]: {} }, ...(sid ? { sid } : {}) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(sim.issuer)
    .setAudience(clientId)
    .setSubject(accountState(sim, username).account.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey);
}

async function deliver(sim: SimulatorState, client: SimulatorClient, username: string, sid: string | undefined): Promise<BackchannelDelivery> {
  const token = await logoutToken(sim, username, client.client_id, sid);
  try {
    const response = await fetch(client.backchannel_logout_uri!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return { clientId: client.client_id, sid, status: response.status };
  } catch (error) {
    return { clientId: client.client_id, sid, status: undefined, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Ends the person's national sessions and POSTs a logout token to each client with a
 * `backchannel_logout_uri` that took part (one per `sid`); with no national session, every such
 * client gets one token carrying `sub` only.
 */
export async function backchannelLogout(sim: SimulatorState, username: string): Promise<BackchannelDelivery[]> {
  const live = sessionsOf(sim, username);
  for (const [id] of live) sim.store.remove('Session', id);
  const targets = sim.options.clients.filter((c) => c.backchannel_logout_uri);
  const jobs: Array<Promise<BackchannelDelivery>> = [];
  for (const client of targets) {
    if (live.length === 0) {
      jobs.push(deliver(sim, client, username, undefined));
      continue;
    }
    for (const [, session] of live) {
      const sid = session.sids[client.client_id];
      if (sid) jobs.push(deliver(sim, client, username, sid));
    }
  }
  return Promise.all(jobs);
}
