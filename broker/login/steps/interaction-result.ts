/**
 * Ends the interaction of a national return with `result` and answers where the browser resumes,
 * as oidc-provider's `interactionResult` does, on the interaction the steps already read: at the
 * callback the interaction cookie does not reach, and reading it again would cost a store round trip.
 * Nothing of an earlier prompt's answer is kept (oidc-provider's `mergeWithLastSubmission: false`).
 */
import { endInteraction } from '../interaction.ts';
import type { NationalReturn } from './flow.ts';

export function interactionResult(flow: NationalReturn, result: Record<string, unknown>): Promise<string> {
  return endInteraction(flow.interaction!, result, { mergeWithLastSubmission: false });
}
