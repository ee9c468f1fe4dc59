/**
 * Errors of the registry. Each carries a stable code (asserted by tests), its HTTP status for the
 * admin API from the error catalogue, a description for operators, and for validation failures
 * every problem found, so an operator fixes them at once.
 */
import { TongbanError, messages, type ErrorKey } from '../platform/errors.ts';

export const RegistryErrorCode = {
  invalidDivisionCode: 'invalid_division_code',
  cityExists: 'city_exists',
  cityNotFound: 'city_not_found',
  appExists: 'app_exists',
  appNotFound: 'app_not_found',
  appSuspended: 'app_suspended',
  invalidRedirectUri: 'invalid_redirect_uri',
  invalidAppMetadata: 'invalid_app_metadata',
  invalidScope: 'invalid_scope',
  invalidRequest: 'invalid_request',
  invalidToken: 'invalid_token',
  forbidden: 'forbidden',
  operatorNotFound: 'operator_not_found',
  conflict: 'registry_conflict',
} as const satisfies Record<string, ErrorKey>;
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** One thing wrong with an input, named by its field. */
export interface Problem {
  readonly field: string;
  readonly code: RegistryErrorCode;
  readonly message: string;
}

export class RegistryError extends TongbanError {
  readonly problems: readonly Problem[];
  constructor(code: RegistryErrorCode, message: string, problems: readonly Problem[] = []) {
    super(code, { status: messages[code].status, message });
    this.name = 'RegistryError';
    this.problems = problems;
  }

  /** One error for a list of problems: the first problem's code, every message. */
  static of(problems: readonly Problem[]): RegistryError {
    const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    return new RegistryError(problems[0]!.code, message, problems);
  }
}

export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError;
}
