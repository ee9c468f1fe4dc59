/**
 * Small input checks shared by the member operations: division codes, client ids and app names
 * (unique per city, compared without case and surrounding space).
 */
import { createHash } from 'node:crypto';
import { isDivisionCode } from '../identity/identifiers.ts';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import type { MemberCity } from './types.ts';

export function problem(code: RegistryErrorCode, field: string, message: string): RegistryError {
  return RegistryError.of([{ field, code, message }]);
}

export function checkCode(value: unknown, field = 'code'): string {
  if (typeof value !== 'string' || !isDivisionCode(value)) {
    throw problem(RegistryErrorCode.invalidDivisionCode, field, `"${String(value ?? '')}" is not a valid 6-digit GB/T 2260 division code`);
  }
  return value;
}

export function checkClientId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 200) {
    throw problem(RegistryErrorCode.invalidRequest, 'client_id', 'a client_id is required');
  }
  return value;
}

/** Where an audit entry about a city's things is indexed. */
export const whereCity = (city: MemberCity) => ({ city: city.code, province: city.province });

/** App names are unique per city, compared without case and surrounding space. */
export const nameKey = (name: string) => name.trim().toLowerCase();

export function normalisedName(name: string): string {
  return createHash('sha256').update(nameKey(name)).digest('base64url');
}
