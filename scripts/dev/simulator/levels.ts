/**
 * Assurance levels at the simulated national platform: the level a request asks for, and the
 * login prompt that steps a signed-in person up (password, then face check) when it is higher.
 */
import { interactionPolicy } from 'oidc-provider';
import { levelFromNationalAcr, type AssuranceLevel } from '../../../broker/identity/assurance.ts';
import type { SimulatorState } from './state.ts';

/**
 * The lowest level named in `acr_values` or in `claims.id_token.acr` (`value` or `values`),
 * whichever is higher: levels are ordered, so any level at or above it satisfies the request.
 */
export function requestedLevel(params: Record<string, unknown> | undefined): AssuranceLevel | undefined {
  const floor = (values: unknown[]): number | undefined => {
    const levels = values.map((v) => levelFromNationalAcr(v)).filter((v): v is AssuranceLevel => v !== undefined);
    return levels.length ? Math.min(...levels) : undefined;
  };
  const floors: number[] = [];
  if (typeof params?.acr_values === 'string') {
    const level = floor(params.acr_values.split(' '));
    if (level !== undefined) floors.push(level);
  }
  if (typeof params?.claims === 'string') {
    try {
      const acr = (JSON.parse(params.claims) as { id_token?: { acr?: { value?: unknown; values?: unknown } } })?.id_token?.acr;
      const values = Array.isArray(acr?.values) ? acr.values : acr?.value !== undefined ? [acr.value] : [];
      const level = floor(values);
      if (level !== undefined) floors.push(level);
    } catch {
      // oidc-provider has already rejected malformed claims parameters.
    }
  }
  return floors.length ? (Math.max(...floors) as AssuranceLevel) : undefined;
}

/** oidc-provider's prompts with the ordered-level step-up and the `error-callback` denial. */
export function loginPolicy(sim: SimulatorState): interactionPolicy.Prompt[] {
  const base = interactionPolicy.base();
  const login = base.get('login')!;
  // Levels are ordered: the acr_step_up check below replaces the exact-match acr checks.
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(new interactionPolicy.Check('acr_step_up', 'a higher assurance level is requested', (ctx) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const wanted = requestedLevel(ctx.oidc.params);
    const account = sim.bySub.get(accountId)?.account;
    if (wanted === undefined || !account) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const current = levelFromNationalAcr(ctx.oidc.session?.acr) ?? 1;
    return wanted > current && account.maxLevel >= wanted
      ? interactionPolicy.Check.REQUEST_PROMPT
      : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  }));
  // Forces an interaction even with a live session, so `error-callback` also hits single sign-on.
  login.checks.add(new interactionPolicy.Check('simulated_denial', 'the national platform denies the request', () =>
    sim.mode === 'error-callback' ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT));
  return base;
}
