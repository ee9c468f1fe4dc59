/**
 * Check algorithms for Chinese identifiers (see shared/reference/identifiers.md):
 * the resident identity number (GB 11643-1999, ISO 7064 MOD 11-2) and the unified social credit
 * code (GB 32100-2015). Pure functions; no identifier is ever logged.
 */

const residentWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const residentCheckChars = '10X98765432';

/** The check character for the first 17 digits of a resident identity number. */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('expected 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * residentWeights[i]!;
  return residentCheckChars[sum % 11]!;
}

/** Upper-cases a trailing `x`; returns undefined when the shape is not 18 characters. */
export function normaliseResidentId(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^\d{17}[\dXx]$/.test(trimmed)) return undefined;
  return trimmed.toUpperCase();
}

function isValidDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getTime() <= Date.now();
}

export interface ResidentIdFacts {
  /** Normalised number (upper-case X). */
  readonly value: string;
  readonly divisionCode: string;
  /** YYYY-MM-DD */
  readonly birthDate: string;
  readonly sex: 'male' | 'female';
  /** Hong Kong, Macao or Taiwan residence permit (address code 81/82/83). */
  readonly residencePermit: boolean;
}

/** Validates a resident identity number (shape, birth date, check character). */
export function parseResidentId(value: string): ResidentIdFacts | undefined {
  const normalised = normaliseResidentId(value);
  if (!normalised) return undefined;
  const division = normalised.slice(0, 6);
  if (!isDivisionCode(division)) return undefined;
  const birth = normalised.slice(6, 14);
  if (!isValidDate(birth)) return undefined;
  if (residentIdCheckChar(normalised.slice(0, 17)) !== normalised[17]) return undefined;
  return {
    value: normalised,
    divisionCode: division,
    birthDate: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
    sex: Number(normalised[16]) % 2 === 1 ? 'male' : 'female',
    residencePermit: ['81', '82', '83'].includes(division.slice(0, 2)),
  };
}

export function isValidResidentId(value: string): boolean {
  return parseResidentId(value) !== undefined;
}

const creditAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const creditWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const orgCodeWeights = [3, 7, 9, 10, 5, 8, 4, 2] as const;

/** The check character for the first 17 characters of a unified social credit code. */
export function creditCodeCheckChar(first17: string): string {
  if (first17.length !== 17) throw new TypeError('expected 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const index = creditAlphabet.indexOf(first17[i]!);
    if (index < 0) throw new TypeError('character outside the credit code alphabet');
    sum += index * creditWeights[i]!;
  }
  return creditAlphabet[(31 - (sum % 31)) % 31]!;
}

/** The check character of a 9-character organisation code, for its first 8 characters. */
export function organisationCodeCheckChar(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i += 1) {
    const ch = first8[i]!;
    const value = /\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55; // A=10 ... Z=35
    sum += value * orgCodeWeights[i]!;
  }
  const check = 11 - (sum % 11);
  return check === 10 ? 'X' : check === 11 ? '0' : String(check);
}

export interface CreditCodeFacts {
  readonly value: string;
  readonly registrationAuthority: string;
  readonly organisationCategory: string;
  readonly divisionCode: string;
  readonly organisationCode: string;
}

/**
 * Validates a unified social credit code: alphabet, division code shape and the check character.
 * The embedded organisation code's own check is reported, not required: codes of individual
 * businesses (category 92) often carry none.
 */
export function parseCreditCode(value: string): CreditCodeFacts | undefined {
  const code = value.trim().toUpperCase();
  if (code.length !== 18) return undefined;
  for (const ch of code) if (!creditAlphabet.includes(ch)) return undefined;
  const division = code.slice(2, 8);
  if (!/^\d{6}$/.test(division)) return undefined;
  if (creditCodeCheckChar(code.slice(0, 17)) !== code[17]) return undefined;
  return {
    value: code,
    registrationAuthority: code[0]!,
    organisationCategory: code[1]!,
    divisionCode: division,
    organisationCode: code.slice(8, 17),
  };
}

export function isValidCreditCode(value: string): boolean {
  return parseCreditCode(value) !== undefined;
}

/** A GB/T 2260 division code: 6 digits, a province prefix in the known ranges (11–82). */
export function isDivisionCode(value: string): boolean {
  if (!/^\d{6}$/.test(value)) return false;
  const province = Number(value.slice(0, 2));
  return province >= 11 && province <= 83;
}

/** `330106` → `330000`. */
export function provinceOf(divisionCode: string): string {
  return `${divisionCode.slice(0, 2)}0000`;
}
