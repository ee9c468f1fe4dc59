/**
 * Ends the interaction of a national return with `result` and answers where the browser resumes,
 * as oidc-provider's `interactionResult` does, on the interaction the steps already read: at the
 * callback the interaction cookie does not reach, and reading it again would cost a store round trip.
 * The resume (`/auth/:uid`) still requires the browser's own resume cookie.
 */
import type { NationalReturn } from './flow.ts';

export async function interactionResult(flow: NationalReturn, result: Record<string, unknown>): Promise<string> {
  const interaction = flow.interaction!;
  interaction.result = result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  return interaction.returnTo;
}
