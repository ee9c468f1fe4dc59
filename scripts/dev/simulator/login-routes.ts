/**
 * The simulated national login pages' routes: password login, the face check that steps a person
 * up to a higher level, cancel, and the consent the broker (first-party) gets at once.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import { errors, type default as Provider } from 'oidc-provider';
import { nationalAcrOf, type AssuranceLevel } from '../../../broker/identity/assurance.ts';
import { demoPassword, type AccountState } from './accounts.ts';
import { requestedLevel } from './levels.ts';
import { lastLoginOf, rememberLogin, say, simulatorPreferences, viewOf, type LoginContext } from './messages.ts';
import { errorPage, facePage, loginPage, type WayOn } from './pages.ts';
import { fullGrant } from './provider-config.ts';
import { prunePending, type SimulatorState } from './state.ts';
import { readFormBody } from '../form-body.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function passwordMatches(given: string): boolean {
  return timingSafeEqual(digest(given), digest(demoPassword));
}

async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  return readFormBody(ctx);
}

export function interactionRoutes(p: Provider, sim: SimulatorState): Koa.Middleware {
  const router = new Router();

  const finish = async (ctx: Koa.Context, result: Parameters<Provider['interactionResult']>[2]) => {
    const returnTo = await p.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  };
  const deny = (ctx: Koa.Context, description: string) =>
    finish(ctx, { error: 'access_denied', error_description: description });
  const clientName = (clientId: unknown) => sim.clients.get(String(clientId))?.client_name ?? String(clientId);
  const login = (ctx: Koa.Context, s: AccountState, amr: string[], level: AssuranceLevel) =>
    finish(ctx, { login: { accountId: s.account.sub, acr: nationalAcrOf(level), amr, remember: true } });

  // Every route re-reads the interaction: that checks the uid against its path-scoped cookie.
  const guarded = (fn: (ctx: Koa.Context) => Promise<void>): Koa.Middleware => async (ctx) => {
    try {
      await fn(ctx);
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      // Back after a login, or a login left too long: the language of this browser's last login, and
      // a way on to the client it was for (its home page), not a dead end.
      ctx.status = 400;
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      const view = viewOf(ctx);
      const wayOn = wayOnTo(lastLoginOf(ctx)?.clientId, view);
      ctx.body = errorPage(say(view, 'expiredTitle'), say(view, wayOn ? 'expiredDone' : 'expiredText'), undefined, view, wayOn);
    }
  };
  /** The client's home page (`client_uri`, else its redirect URI's origin); the only client when unknown. */
  const wayOnTo = (clientId: string | undefined, view: ReturnType<typeof viewOf>): WayOn | undefined => {
    const client = clientId !== undefined ? sim.clients.get(clientId) : sim.clients.size === 1 ? [...sim.clients.values()][0] : undefined;
    const first = client?.redirect_uris[0];
    if (!client || (!client.client_uri && !first)) return undefined;
    const href = client.client_uri ?? `${new URL(first!).origin}/`;
    return { href, label: say(view, 'continueTo', { client: client.client_name ?? client.client_id }) };
  };
  const loginOf = (interaction: { params: Record<string, unknown>; iat?: number }): LoginContext => ({ uiLocales: interaction.params.ui_locales, ...(interaction.iat !== undefined ? { startedAt: interaction.iat } : {}) });

  // The language and display switches of the simulator's pages (messages.ts).
  router.get('/preferences', (ctx) => simulatorPreferences(ctx));

  router.get('/interaction/:uid', guarded(async (ctx) => {
    const interaction = await p.interactionDetails(ctx.req, ctx.res);
    ctx.set('cache-control', 'no-store');
    if (sim.mode === 'error-callback') return deny(ctx, 'the national platform denied the request');
    const { prompt, params, session, uid } = interaction;
    if (prompt.name === 'login') {
      const stepUpOnly = session?.accountId !== undefined && prompt.reasons.every((r) => r === 'acr_step_up');
      const s = session?.accountId ? sim.bySub.get(session.accountId) : undefined;
      if (stepUpOnly && s) {
        prunePending(sim);
        sim.pendingFace.set(uid, { accountId: s.account.sub, until: Date.now() + 600_000 });
        ctx.type = 'html';
        ctx.body = facePage(uid, s.account.name, viewOf(ctx, loginOf(interaction)));
        return;
      }
      const view = viewOf(ctx, loginOf(interaction));
      rememberLogin(ctx, String(params.client_id), view);
      ctx.type = 'html';
      ctx.body = loginPage({
        uid,
        clientName: clientName(params.client_id),
        ...(typeof params.login_hint === 'string' ? { username: params.login_hint } : {}),
      }, view);
      return;
    }
    // Only the consent prompt is left; the broker is first-party, so it is granted at once.
    const grant = await fullGrant(p, String(params.client_id), session?.accountId, interaction.grantId);
    if (!grant) return deny(ctx, 'no account to grant to');
    return finish(ctx, { consent: { grantId: grant.jti } });
  }));

  router.post('/interaction/:uid/login', guarded(async (ctx) => {
    const interaction = await p.interactionDetails(ctx.req, ctx.res);
    ctx.set('cache-control', 'no-store');
    if (interaction.prompt.name !== 'login') ctx.throw(400, 'not a login interaction');
    const form = await readForm(ctx);
    const username = (form.get('username') ?? '').trim();
    const s = sim.states.get(username);
    // Same answer for an unknown user and a wrong password.
    if (!passwordMatches(form.get('password') ?? '') || !s) {
      ctx.type = 'html';
      ctx.body = loginPage({ uid: interaction.uid, clientName: clientName(interaction.params.client_id), username, error: true }, viewOf(ctx, loginOf(interaction)));
      return;
    }
    const wanted = requestedLevel(interaction.params);
    if (wanted !== undefined && wanted > s.account.loginLevel && s.account.maxLevel >= wanted) {
      prunePending(sim);
      sim.pendingFace.set(interaction.uid, { accountId: s.account.sub, until: Date.now() + 600_000 });
      ctx.type = 'html';
      ctx.body = facePage(interaction.uid, s.account.name, viewOf(ctx, loginOf(interaction)));
      return;
    }
    return login(ctx, s, ['pwd'], s.account.loginLevel);
  }));

  router.post('/interaction/:uid/face', guarded(async (ctx) => {
    const interaction = await p.interactionDetails(ctx.req, ctx.res);
    ctx.set('cache-control', 'no-store');
    const pending = sim.pendingFace.get(interaction.uid);
    const s = pending ? sim.bySub.get(pending.accountId) : undefined;
    if (!pending || !s || pending.until < Date.now()) {
      ctx.status = 400;
      ctx.type = 'html';
      const view = viewOf(ctx, loginOf(interaction));
      ctx.body = errorPage(say(view, 'noFaceTitle'), say(view, 'noFaceText'), undefined, view);
      return;
    }
    sim.pendingFace.delete(interaction.uid);
    return login(ctx, s, ['pwd', 'face'], s.account.maxLevel);
  }));

  router.get('/interaction/:uid/abort', guarded(async (ctx) => {
    await p.interactionDetails(ctx.req, ctx.res);
    sim.pendingFace.delete(String(ctx.params.uid));
    return deny(ctx, 'the person cancelled the login');
  }));

  return router.routes() as unknown as Koa.Middleware;
}
