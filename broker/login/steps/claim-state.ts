/**
 * Step 1 of the national return: the `state` is taken once. The first request with it claims it,
 * any replay finds it claimed and is refused.
 */
import { stateError, stateOf } from '../national-state.ts';
import type { NationalReturnStep } from './flow.ts';

export const claimState: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  ctx.set('cache-control', 'no-store');
  const state = stateOf(ctx);
  // One-time: the first request with this state takes it, any replay finds nothing.
  if (!(await options.store.claim(`upstream-used:${state}`, options.interactionTtlSeconds * 1000))) throw stateError();
  flow.state = state;
  await next();
};
