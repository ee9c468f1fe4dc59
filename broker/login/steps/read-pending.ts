/**
 * Step 2 of the national return: the broker interaction the login belongs to, bound to this browser.
 * At the callback the binding is the cookie set with the redirect to the national platform (it holds
 * the `state`: context.ts; the route checked its signature); at `/interaction/:uid/national` (logins
 * started by an earlier version) it is the path-scoped interaction cookie. Either way an answer only
 * counts for this browser's own login; anything that does not match is refused as a foreign return.
 */
import { callbackPath, nationalBindingCookie } from '../context.ts';
import { checkInteractionSession, interactionDetails } from '../interaction.ts';
import { stateError } from '../national-state.ts';
import { sameText } from '../signed-cookie.ts';
import type { InteractionDetails, NationalReturnStep } from './flow.ts';

export const readPending: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const { provider } = options;
  const pending = flow.pending!;
  let details: InteractionDetails | undefined;
  if (ctx.params.uid !== undefined) {
    if (pending.uid !== ctx.params.uid) throw stateError();
    try {
      details = await interactionDetails(provider, ctx);
    } catch {
      throw stateError();
    }
  } else {
    const bound = flow.bound;
    if (bound === undefined || !sameText(bound, flow.state!)) throw stateError();
    // Both halves expire: nothing to sign in a cookie that is being removed.
    const cookie = nationalBindingCookie(options.cookiePrefix ?? 'tongban', flow.state!);
    ctx.cookies.set(cookie, null, { path: callbackPath, signed: false, overwrite: true });
    ctx.cookies.set(`${cookie}.sig`, null, { path: callbackPath, signed: false, overwrite: true });
    details = await provider.Interaction.find(pending.uid);
    if (details) {
      try {
        await checkInteractionSession(provider, details);
      } catch {
        throw stateError();
      }
    }
  }
  if (!details || details.uid !== pending.uid) throw stateError();
  flow.interaction = details;
  await next();
};
