/**
 * The standard-side claims of a legal-person login, in one of two shapes chosen per app by the
 * client metadata `legal_person_subject` (docs/legal-persons.md):
 *
 * - `person` (default): the person is `sub`; the company comes in `represents`.
 * - `company`: the company is `sub` (a pairwise subject per province sector, derived from the credit
 *   code with the deployment secret, never the code itself); the company's facts come in
 *   `legal_person` and the acting person in `act` (shaped after RFC 8693's actor claim).
 *
 * Both carry the credit code, the name, the acting role, the mandate (scope and expiry) for agents,
 * and the acting person's own assurance level. The province dialects come beside these, from the
 * adapters (adapters/README.md).
 */
import { acrOf } from '../identity/assurance.ts';
import type { LegalPerson, NaturalPerson, Representation } from '../identity/model.ts';
import type { Derive } from '../identity/subjects.ts';

export const legalPersonSubjects = ['person', 'company'] as const;
export type LegalPersonSubject = (typeof legalPersonSubjects)[number];

export function isLegalPersonSubject(value: unknown): value is LegalPersonSubject {
  return typeof value === 'string' && (legalPersonSubjects as readonly string[]).includes(value);
}

/** The client metadata property that chooses the shape. */
export const legalPersonSubjectProperty = 'legal_person_subject';

/** An app's choice of `sub` for legal-person logins (`person` unless it registered `company`). */
export function legalPersonSubjectOf(client: unknown): LegalPersonSubject {
  const value = (client as Record<string, unknown> | undefined)?.[legalPersonSubjectProperty];
  return isLegalPersonSubject(value) ? value : 'person';
}

/** The client metadata property naming the mandate scopes an agent must hold to act for a company at the app. */
export const requiredMandateScopesProperty = 'required_mandate_scopes';

/** Mandate scope names as the national platform writes them (`tax`, `social_insurance`). */
export const mandateScopePattern = /^[a-z][a-z0-9_]{0,63}$/;

/** Whether a value is a list of mandate scope names (the metadata's only valid shape). */
export function isMandateScopeList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length <= 32 && value.every((s) => typeof s === 'string' && mandateScopePattern.test(s));
}

/** The mandate scopes an app requires of agents (none unless it registered some). */
export function requiredMandateScopesOf(client: unknown): readonly string[] {
  const value = (client as Record<string, unknown> | undefined)?.[requiredMandateScopesProperty];
  return isMandateScopeList(value) ? value : [];
}

/** What an acting company's mandate lacks of an app's required scopes (a legal representative lacks nothing). */
export function missingMandateScopes(acting: Pick<Representation, 'role' | 'mandate'>, required: readonly string[]): string[] {
  if (acting.role === 'legal_representative' || required.length === 0) return [];
  const held = new Set(acting.mandate?.scope ?? []);
  return required.filter((scope) => !held.has(scope));
}

/** Claim names under the `legal_person` scope (for discovery and oidc-provider's claims configuration). */
export const legalPersonClaimsByScope = { legal_person: ['represents', 'legal_person', 'act'] } as const;

/**
 * The company's pairwise subject in a province sector. A namespace of its own, so it can never
 * equal a person's subject, and keyed, so the credit code cannot be read back from it.
 *
 * @example
 * companySubject(derive, 'urn:tongban:sector:jiangsu', '91320505MA2TB0K20P') // 'q3Jx…' (43 characters)
 */
export function companySubject(derive: Derive, sector: string, creditCode: string): string {
  return derive(`tongban:company-sub:${sector}`, creditCode);
}

export function asLegalPerson(representation: Representation): LegalPerson {
  return { ...representation, kind: 'legal_person' };
}

interface MandateClaim {
  readonly scope: readonly string[];
  /** Epoch seconds. */
  readonly expires_at: number;
}

function mandateOf(acting: Representation): { mandate?: MandateClaim } {
  return acting.mandate ? { mandate: { scope: [...acting.mandate.scope], expires_at: acting.mandate.expiresAt } } : {};
}

export interface LegalPersonClaimsRequest {
  readonly acting: Representation;
  readonly person: NaturalPerson;
  readonly shape: LegalPersonSubject;
  /** The person's pairwise subject for this app (the `sub` in `person` shape, `act.sub` in `company` shape). */
  readonly personSubject: string;
}

/**
 * @example
 * legalPersonClaims({ acting, person, shape: 'person', personSubject })
 * // → { represents: { credit_code, name, org_type, role: 'agent', acr: 'urn:tongban:loa:3',
 * //                   mandate: { scope: ['tax'], expires_at: 1798761600 } } }
 */
export function legalPersonClaims({ acting, person, shape, personSubject }: LegalPersonClaimsRequest): Record<string, unknown> {
  const company = { credit_code: acting.creditCode, name: acting.name, org_type: acting.orgType };
  const role = { role: acting.role, acr: acrOf(person.assurance), ...mandateOf(acting) };
  if (shape === 'company') return { legal_person: company, act: { sub: personSubject, ...role } };
  return { represents: { ...company, ...role } };
}
