/**
 * One return from the national platform as it passes the steps of national-return.ts: each step
 * reads what the steps before it found and adds its own, then calls `next`, or answers the browser
 * itself and stops the flow (koa's middleware shape, as oidc-provider's authorization steps).
 */
import type { Context } from 'koa';
import type { NationalLoginResult } from '../../national/upstream.ts';
import type { InteractionOptions, PendingUpstream } from '../context.ts';
import type { InteractionDetails } from '../interaction.ts';

export type { InteractionDetails };

export interface NationalReturn {
  readonly ctx: Context;
  readonly options: InteractionOptions;
  /** At the callback: the binding cookie's value (context.ts), its signature checked once by the route. */
  readonly bound?: string;
  /** claim-state: the `state` of this return, claimed once. */
  state?: string;
  /** read-pending: the login this browser started. */
  pending?: PendingUpstream;
  /** read-pending: the broker interaction it belongs to. */
  interaction?: InteractionDetails;
  /** exchange-code: the canonical identity and the national login's facts. */
  national?: NationalLoginResult;
  /** save-account: the broker account id. */
  accountId?: string;
  /** hand-off-company: false when legal persons kept nothing for this login. */
  keptForLegalPerson?: boolean;
}

export type NationalReturnStep = (flow: NationalReturn, next: () => Promise<void>) => Promise<void>;
