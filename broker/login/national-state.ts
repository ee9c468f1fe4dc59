/**
 * The `state` of a return from the national platform, and the one refusal for every return that
 * does not belong to a login in progress in this browser.
 */
import type { Context } from 'koa';
import { tongbanError } from '../platform/errors.ts';

export const stateError = () => tongbanError('upstream_state_mismatch');

export const stateOf = (ctx: Context) => {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
  if (!state || state.length > 200) throw stateError();
  return state;
};
