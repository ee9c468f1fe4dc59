/**
 * Mapping tables: each province's dialect is a list of rules (`claim` ← `from`, under a `scope`),
 * and this file is the one small function that applies a list to a release context.
 */
import type { AssuranceLevel } from '../broker/identity/assurance.ts';
import type { DocumentType, RepresentationRole } from '../broker/identity/model.ts';
import { releaseScopes, type ReleaseScope } from './scopes.ts';
import type { ClaimValue, ReleaseContext } from './types.ts';

/** The canonical facts a rule may read, and their types. */
export interface Sources {
  /** The provincial user id (`ProvinceAdapter.accountId`). */
  readonly accountId: string;
  /** `legal_person` when a company is acting and `legal_person` is granted, else `natural_person`. */
  readonly subjectKind: 'natural_person' | 'legal_person';
  readonly 'person.name': string;
  readonly 'person.documentType': DocumentType;
  readonly 'person.documentNumber': string;
  /** YYYY-MM-DD */
  readonly 'person.birthDate': string;
  readonly 'person.sex': 'male' | 'female';
  readonly 'person.phone': string;
  readonly 'person.certKey': string;
  readonly 'person.assurance': AssuranceLevel;
  readonly 'acting.creditCode': string;
  readonly 'acting.name': string;
  readonly 'acting.orgType': string;
  readonly 'acting.role': RepresentationRole;
  readonly 'acting.mandateScope': readonly string[];
  /** Epoch seconds. */
  readonly 'acting.mandateExpiresAt': number;
}
export type SourceName = keyof Sources;

/** A lookup table for a source's values; exhaustive where the source is a closed set. */
export type ValueMap<T> = [T] extends [string | number]
  ? string extends T ? Readonly<Record<string, ClaimValue>> : { readonly [K in T]: ClaimValue }
  : never;

interface RuleFrom<S extends SourceName> {
  /** Claim name in the province's dialect. */
  readonly claim: string;
  /** The scope the claim belongs to (listed under it in `claimsByScope`). */
  readonly scope: ReleaseScope;
  /** A second scope the claim also needs, e.g. an agent's phone needs `phone` too. */
  readonly also?: ReleaseScope;
  readonly from: S;
  /** Only when the acting role is this one (e.g. the legal representative's own fields). */
  readonly onlyFor?: RepresentationRole;
  /** Dialect codes for the source values; a value missing from the map is not released. */
  readonly values?: ValueMap<Sources[S]>;
  /** Dialect formatting of the source value (pure). */
  readonly format?: (value: Sources[S]) => ClaimValue;
}

export type ClaimRule = { readonly [S in SourceName]: RuleFrom<S> }[SourceName];
export type MappingTable = readonly ClaimRule[];

/** Legal-person data exists for a release only with an acting company and the `legal_person` scope. */
export function actsForLegalPerson(context: ReleaseContext): boolean {
  return context.acting !== undefined && context.scopes.has('legal_person');
}

const read: { readonly [S in SourceName]: (context: ReleaseContext) => Sources[S] | undefined } = {
  accountId: (c) => c.accountId,
  subjectKind: (c) => (actsForLegalPerson(c) ? 'legal_person' : 'natural_person'),
  'person.name': (c) => c.identity.person.name,
  'person.documentType': (c) => c.identity.person.document.type,
  'person.documentNumber': (c) => c.identity.person.document.number,
  'person.birthDate': (c) => c.identity.person.birthDate,
  'person.sex': (c) => c.identity.person.sex,
  'person.phone': (c) => c.identity.person.phone,
  'person.certKey': (c) => c.identity.person.certKey,
  'person.assurance': (c) => c.identity.person.assurance,
  'acting.creditCode': (c) => c.acting?.creditCode,
  'acting.name': (c) => c.acting?.name,
  'acting.orgType': (c) => c.acting?.orgType,
  'acting.role': (c) => c.acting?.role,
  'acting.mandateScope': (c) => c.acting?.mandate?.scope,
  'acting.mandateExpiresAt': (c) => c.acting?.mandate?.expiresAt,
};

function granted(context: ReleaseContext, scope: ReleaseScope): boolean {
  return scope === 'legal_person' ? actsForLegalPerson(context) : context.scopes.has(scope);
}

function valueOf(rule: ClaimRule, context: ReleaseContext): ClaimValue | undefined {
  // The union of rules is correlated by `from`; TypeScript cannot follow that through one lookup.
  const source = (read[rule.from] as (c: ReleaseContext) => Sources[SourceName] | undefined)(context);
  if (source === undefined) return undefined;
  if (rule.values) {
    const key = source as string | number;
    const values = rule.values as Readonly<Record<string | number, ClaimValue>>;
    return Object.hasOwn(values, key) ? values[key] : undefined;
  }
  if (rule.format) return (rule.format as (value: Sources[SourceName]) => ClaimValue)(source);
  return Array.isArray(source) ? [...source] : (source as ClaimValue);
}

/**
 * Applies a mapping table: each rule whose scopes are granted (and whose role matches) releases
 * its claim when the source has a value. Claims come out in table order; the first rule that
 * yields a value for a claim wins. Pure.
 */
export function applyMapping(table: MappingTable, context: ReleaseContext): Record<string, ClaimValue> {
  const claims: Record<string, ClaimValue> = {};
  for (const rule of table) {
    if (Object.hasOwn(claims, rule.claim)) continue;
    if (!granted(context, rule.scope) || (rule.also !== undefined && !granted(context, rule.also))) continue;
    if (rule.onlyFor !== undefined && context.acting?.role !== rule.onlyFor) continue;
    const value = valueOf(rule, context);
    if (value !== undefined) claims[rule.claim] = value;
  }
  return claims;
}

/** The claim names of a table, grouped by scope, in table order (every scope present). */
export function claimsByScopeOf(table: MappingTable): Readonly<Record<ReleaseScope, readonly string[]>> {
  const byScope = Object.fromEntries(releaseScopes.map((scope) => [scope, [] as string[]])) as Record<ReleaseScope, string[]>;
  for (const rule of table) {
    const names = byScope[rule.scope];
    if (!names.includes(rule.claim)) names.push(rule.claim);
  }
  return byScope;
}
