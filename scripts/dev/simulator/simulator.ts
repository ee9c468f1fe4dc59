/**
 * `createNationalSimulator`: a real OpenID Provider standing in for the national platform, started
 * and stopped by its user, switched between behaviour and misbehaviour at run time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { backchannelLogout, logoutToken } from './backchannel.ts';
import type { NationalSimulator, NationalSimulatorOptions } from './contract.ts';
import { interactionRoutes } from './login-routes.ts';
import { isMisbehaviour, type SigningKey } from './misbehaviour.ts';
import { installMisbehaviours } from './misbehaviour-middleware.ts';
import { createLicenceLibrary } from './licence-library.ts';
import { licenceRoutes } from './licence-routes.ts';
import { configuration } from './provider-config.ts';
import { accountState, claimsFor, createSimulatorState, mandateOf, sessionsOf } from './state.ts';

async function signingKey(alg: 'RS256' | 'ES256'): Promise<{ key: SigningKey; jwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { key: { alg, kid, privateKey: pair.privateKey }, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export function createNationalSimulator(options: NationalSimulatorOptions): NationalSimulator {
  const configured = new URL(options.issuer);
  if (configured.pathname !== '/' || configured.search || configured.hash) {
    throw new TypeError('the simulator issuer must be an origin without a path');
  }
  const host = configured.hostname.replace(/^\[(.*)\]$/, '$1');
  const wantedPort = options.port ?? Number(configured.port || (configured.protocol === 'https:' ? 443 : 80));
  const sim = createSimulatorState(options, configured.origin);
  let listenPort = wantedPort;
  let server: Server | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  function listen(s: Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      s.once('error', onError);
      s.listen(port, host, () => {
        s.off('error', onError);
        resolve();
      });
    });
  }

  function close(s: Server): Promise<void> {
    return new Promise((resolve) => {
      if (!s.listening) {
        s.closeAllConnections();
        resolve();
        return;
      }
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  return {
    get issuer() {
      return sim.issuer;
    },
    get url() {
      const shown = host.includes(':') ? `[${host}]` : host;
      return `${configured.protocol}//${shown}:${listenPort}`;
    },
    get mode() {
      return sim.mode;
    },

    async start() {
      if (server) throw new Error('the simulator is already started');
      const generated = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
      for (const { key } of generated) sim.keys.set(key.alg, key);
      sim.keyJwks = generated.map((g) => g.jwk);

      const s = createServer((req, res) => {
        if (handler) {
          handler(req, res);
          return;
        }
        res.statusCode = 503;
        res.end();
      });
      server = s;
      await listen(s, wantedPort);
      listenPort = (s.address() as AddressInfo).port;
      if (wantedPort === 0) {
        const fixed = new URL(configured.href);
        fixed.port = String(listenPort);
        sim.issuer = fixed.origin;
      }
      const p = new Provider(sim.issuer, configuration(sim));
      installMisbehaviours(p, sim);
      // The national licence library shares the platform's host, tokens and misbehaviours.
      p.use(licenceRoutes(p, sim, await createLicenceLibrary(sim.issuer, sim.nowSeconds)));
      p.use(interactionRoutes(p, sim));
      handler = p.callback();
    },

    async stop() {
      handler = undefined;
      const s = server;
      server = undefined;
      if (s) await close(s);
    },

    async misbehave(next, misbehaveOptions) {
      if (!isMisbehaviour(next)) throw new TypeError(`unknown misbehaviour ${String(next)}`);
      if (sim.mode === 'down' && next !== 'down' && server) await listen(server, listenPort);
      sim.mode = next;
      sim.delayMs = misbehaveOptions?.delayMs ?? 3000;
      if (next === 'down' && server?.listening) await close(server);
    },

    async behave() {
      const was = sim.mode;
      sim.mode = undefined;
      if (was === 'down' && server && !server.listening) await listen(server, listenPort);
    },

    revokeMandate(username, creditCode) {
      mandateOf(sim, username, creditCode);
      const s = accountState(sim, username);
      s.entities = s.entities.filter((e) => e.credit_code !== creditCode);
    },

    setMandateExpiry(username, creditCode, epochSeconds) {
      const entity = mandateOf(sim, username, creditCode);
      if (!entity.mandate) throw new Error(`${username} is not an agent of ${creditCode}`);
      const s = accountState(sim, username);
      s.entities = s.entities.map((e) => (e === entity ? { ...e, mandate: { scope: [...entity.mandate!.scope], expires_at: epochSeconds } } : e));
    },

    claimsOf(username) {
      return claimsFor(sim, accountState(sim, username));
    },

    subjectOf(username) {
      return accountState(sim, username).account.sub;
    },

    sessionsOf(username) {
      return sessionsOf(sim, username).map(([, session]) => session);
    },

    logoutToken: (username, clientId, sid) => logoutToken(sim, username, clientId, sid),

    backchannelLogout: (username) => backchannelLogout(sim, username),
  };
}
