/**
 * The canonical identity: the one model between the national upstream and the province adapters.
 * Everything the national platform says is turned into this once (see `fromNational` in
 * broker/national/claims.ts); every adapter reads only this.
 */
import { levelOfAcr, type AssuranceLevel } from './assurance.ts';

/** Document types, with Zhejiang's `idtype` codes as the reference numbering (identifiers.md). */
export const documentTypes = {
  resident_id: 1,
  passport: 2,
  military_officer: 3,
  hk_macao_travel_permit: 4,
  taiwan_travel_permit: 5,
  foreign_permanent_resident: 6,
} as const;
export type DocumentType = keyof typeof documentTypes;

export function isDocumentType(value: unknown): value is DocumentType {
  return typeof value === 'string' && Object.hasOwn(documentTypes, value);
}

export interface IdentityDocument {
  readonly type: DocumentType;
  /** Validated and normalised (resident IDs: check character verified, upper-case X). */
  readonly number: string;
}

export interface NaturalPerson {
  readonly kind: 'natural_person';
  /** The national platform's opaque subject. Never shown to clients. */
  readonly nationalSubject: string;
  readonly name: string;
  readonly document: IdentityDocument;
  /** Derived from a resident ID number where there is one. */
  readonly birthDate?: string;
  readonly sex?: 'male' | 'female';
  readonly phone?: string;
  /** The national `certKey`-style join key: opaque. */
  readonly certKey?: string;
  readonly assurance: AssuranceLevel;
  /** Epoch seconds of the national authentication. */
  readonly authTime: number;
  readonly amr: readonly string[];
}

export type RepresentationRole = 'legal_representative' | 'agent';

export interface Mandate {
  /** What the agent may do, as the national platform states it (e.g. `tax`, `social_insurance`). */
  readonly scope: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** A company (or other organisation) the person may act for, as the national platform says. */
export interface Representation {
  readonly creditCode: string;
  readonly name: string;
  /** Organisation type as told upstream (e.g. `enterprise`, `individual_business`). */
  readonly orgType: string;
  readonly role: RepresentationRole;
  /** Absent for a legal representative. */
  readonly mandate?: Mandate;
}

/** A legal person acting through the natural person of the identity. */
export type LegalPerson = Representation & { readonly kind: 'legal_person' };

export interface CanonicalIdentity {
  readonly person: NaturalPerson;
  /** Organisations the person may currently act for (may be empty). */
  readonly representations: readonly Representation[];
}

/** Representations usable at `now` (epoch seconds): expired mandates are not. */
export function currentRepresentations(identity: Pick<CanonicalIdentity, 'representations'>, now: number): Representation[] {
  return identity.representations.filter((r) => r.role === 'legal_representative' || (r.mandate !== undefined && r.mandate.expiresAt > now));
}

/**
 * The identity as one login saw it: its assurance is the level that login achieved (`acr` of the
 * code, refresh or access token, or legacy ticket). The stored identity holds the person's latest
 * login anywhere, which may be higher than this one's; a dialect must never announce that level.
 */
export function atAchievedLevel(identity: CanonicalIdentity, acr: unknown): CanonicalIdentity {
  const level = typeof acr === 'string' ? levelOfAcr(acr) : undefined;
  if (level === undefined || level === identity.person.assurance) return identity;
  return { ...identity, person: { ...identity.person, assurance: level } };
}
