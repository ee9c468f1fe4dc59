/**
 * Our model of the national platform's unified identity interface: the claims its ID token and
 * userinfo carry (documented for people in scripts/simulator/README.md), and the one function that
 * turns them into the canonical identity. Nothing downstream ever sees these claims.
 */
import { tongbanError, type TongbanError } from '../platform/errors.ts';
import { levelFromNationalAcr } from '../identity/assurance.ts';
import { parseCreditCode, parseResidentId } from '../identity/identifiers.ts';
import { isDocumentType, type CanonicalIdentity, type NaturalPerson, type Representation } from '../identity/model.ts';

/** One organisation the person may act for, as the national platform lists it. */
export interface NationalEntity {
  /** Unified social credit code. */
  readonly credit_code: string;
  readonly name: string;
  readonly org_type: string;
  readonly role: 'legal_representative' | 'agent';
  /** For agents: the mandate's scope and expiry (epoch seconds). */
  readonly mandate?: { readonly scope: readonly string[]; readonly expires_at: number };
}

/** The national claims (ID token plus userinfo, merged). */
export interface NationalClaims {
  /** Opaque national subject. */
  readonly sub: string;
  readonly name: string;
  /** Document type, one of the canonical DocumentType names (`resident_id`, `passport`, ...). */
  readonly cert_type: string;
  readonly cert_no: string;
  readonly phone_number?: string;
  /** `certKey`-style join key: hash of ID number and name, opaque to us. */
  readonly cert_key?: string;
  /** `urn:cn:gov:zwfw:loa:1..4`. */
  readonly acr: string;
  readonly amr?: readonly string[];
  readonly auth_time: number;
  /** Organisations the person may act for (legal representative or agent). */
  readonly entities?: readonly NationalEntity[];
}

function invalid(detail: string): TongbanError {
  return tongbanError('identity_invalid', { detail });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entity(value: unknown, index: number): Representation {
  if (!isRecord(value)) throw invalid(`entities[${index}] is not an object`);
  const code = typeof value.credit_code === 'string' ? parseCreditCode(value.credit_code) : undefined;
  if (!code) throw invalid(`entities[${index}].credit_code fails the GB 32100 check`);
  if (typeof value.name !== 'string' || value.name.trim() === '') throw invalid(`entities[${index}].name missing`);
  const role = value.role;
  if (role !== 'legal_representative' && role !== 'agent') throw invalid(`entities[${index}].role unknown`);
  const orgType = typeof value.org_type === 'string' ? value.org_type : 'enterprise';
  if (role === 'legal_representative') return { creditCode: code.value, name: value.name, orgType, role };
  const mandate = value.mandate;
  if (!isRecord(mandate) || typeof mandate.expires_at !== 'number' || !Array.isArray(mandate.scope)
    || !mandate.scope.every((s) => typeof s === 'string')) {
    throw invalid(`entities[${index}].mandate malformed`);
  }
  return {
    creditCode: code.value,
    name: value.name,
    orgType,
    role,
    mandate: { scope: mandate.scope as string[], expiresAt: mandate.expires_at },
  };
}

/**
 * Validates national claims and builds the canonical identity. Throws `identity_invalid` for
 * anything that does not pass: a resident ID with a wrong check character is never passed on.
 */
export function fromNational(claims: Record<string, unknown>): CanonicalIdentity {
  const { sub, name, cert_type: certType, cert_no: certNo } = claims;
  if (typeof sub !== 'string' || sub === '') throw invalid('sub missing');
  if (typeof name !== 'string' || name.trim() === '') throw invalid('name missing');
  if (!isDocumentType(certType)) throw invalid('cert_type unknown');
  if (typeof certNo !== 'string' || certNo === '') throw invalid('cert_no missing');
  const assurance = levelFromNationalAcr(claims.acr);
  if (assurance === undefined) throw invalid('acr unknown');
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) throw invalid('auth_time missing');

  let number = certNo.trim();
  let birthDate: string | undefined;
  let sex: 'male' | 'female' | undefined;
  if (certType === 'resident_id') {
    const facts = parseResidentId(number);
    if (!facts) throw invalid('cert_no fails the GB 11643 check');
    number = facts.value;
    birthDate = facts.birthDate;
    sex = facts.sex;
  } else if (!/^[A-Za-z0-9]{5,30}$/.test(number)) {
    throw invalid('cert_no malformed');
  }

  const phone = typeof claims.phone_number === 'string' && /^\+?\d{6,20}$/.test(claims.phone_number)
    ? claims.phone_number : undefined;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : ['pwd'];
  const person: NaturalPerson = {
    kind: 'natural_person',
    nationalSubject: sub,
    name: name.trim(),
    document: { type: certType, number },
    ...(birthDate ? { birthDate } : {}),
    ...(sex ? { sex } : {}),
    ...(phone ? { phone } : {}),
    ...(typeof claims.cert_key === 'string' ? { certKey: claims.cert_key } : {}),
    assurance,
    authTime,
    amr,
  };
  return { person, representations: representationsOf(claims) };
}

/**
 * Validates the `entities` of national claims (an ID token, or a later userinfo answer) into
 * representations. Throws `identity_invalid` like `fromNational`: a bad credit code is never passed on.
 */
export function representationsOf(claims: Record<string, unknown>): Representation[] {
  const entities = claims.entities;
  if (entities !== undefined && !Array.isArray(entities)) throw invalid('entities is not a list');
  return (entities ?? []).map((e, i) => entity(e, i));
}
