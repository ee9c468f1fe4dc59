/**
 * The misbehaviours that act on the simulator's HTTP answers: slow responses, a wrong `iss` on
 * the authorization response, and rewritten ID tokens (the others act on claims, state.ts, or on
 * the listening socket, simulator.ts).
 */
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import { idTokenMisbehaviours, rewriteIdToken } from './misbehaviour.ts';
import type { SimulatorState } from './state.ts';

export function installMisbehaviours(p: Provider, sim: SimulatorState): void {
  p.use(async (_ctx, next) => {
    if (sim.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, sim.delayMs));
    await next();
  });
  p.use(async (ctx, next) => {
    await next();
    if (sim.mode === 'wrong-response-iss' && (ctx.status === 302 || ctx.status === 303)) {
      const location = ctx.response.get('location');
      if (location.includes('iss=')) {
        const url = new URL(location);
        url.searchParams.set('iss', 'https://impostor.example.cn');
        ctx.set('location', url.href);
      }
    }
  });
  p.use(async (ctx, next) => {
    await next();
    if (!sim.mode || !idTokenMisbehaviours.has(sim.mode) || ctx.method !== 'POST' || ctx.path !== '/token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body.id_token !== 'string') return;
    const aud = decodeJwt(body.id_token).aud;
    const clientId = Array.isArray(aud) ? aud[0] : aud;
    ctx.body = {
      ...body,
      id_token: await rewriteIdToken(sim.mode, body.id_token, {
        keys: sim.keys,
        clientSecret: clientId ? sim.clients.get(clientId)?.client_secret : undefined,
        nowSeconds: sim.nowSeconds(),
        foreignKeys: sim.foreignKeys,
      }),
    };
  });
}
