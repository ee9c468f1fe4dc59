/**
 * Step 2 of the national return: the login this browser started (read once, then deleted), and
 * the broker interaction it belongs to, which the path-scoped interaction cookie binds to this
 * browser. Anything that does not match is refused as a foreign return.
 */
import { pendingKey, type PendingUpstream } from '../context.ts';
import { stateError } from '../national-state.ts';
import type { NationalReturnStep } from './flow.ts';

export const readPending: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const { store, provider } = options;
  const state = flow.state!;
  const pending = await store.get<PendingUpstream>(pendingKey(state));
  await store.delete(pendingKey(state));
  if (!pending || pending.uid !== ctx.params.uid) throw stateError();
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    throw stateError();
  }
  if (details.uid !== pending.uid) throw stateError();
  flow.pending = pending;
  flow.interaction = details;
  await next();
};
