/**
 * Step 1 of the national return: the `state` is taken once. The login it names is read and deleted
 * in one atomic store command (`consume`): the first request with it gets it, any replay, on any
 * node, finds nothing and is refused.
 */
import { pendingKey, type PendingUpstream } from '../context.ts';
import { stateError, stateOf } from '../national-state.ts';
import type { NationalReturnStep } from './flow.ts';

export const claimState: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  ctx.set('cache-control', 'no-store');
  const state = stateOf(ctx);
  const pending = await options.store.consume<PendingUpstream>(pendingKey(state));
  if (!pending) throw stateError();
  flow.state = state;
  flow.pending = pending;
  await next();
};
