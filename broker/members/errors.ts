/**
 * Errors of the registry. Each carries a stable code (asserted by tests), an HTTP status for the
 * admin API, and for validation failures every problem found, so an operator fixes them at once.
 */
import { TongbanError } from '../platform/errors.ts';

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
} as const;
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** One thing wrong with an input, named by its field. */
export interface Problem {
  readonly field: string;
  readonly code: RegistryErrorCode;
  readonly message: string;
}

const statusOf: Record<RegistryErrorCode, number> = {
  invalid_division_code: 400,
  city_exists: 409,
  city_not_found: 404,
  app_exists: 409,
  app_not_found: 404,
  app_suspended: 403,
  invalid_redirect_uri: 400,
  invalid_app_metadata: 400,
  invalid_scope: 400,
  invalid_request: 400,
  invalid_token: 401,
  forbidden: 403,
  operator_not_found: 404,
  registry_conflict: 409,
};

export class RegistryError extends TongbanError {
  readonly problems: readonly Problem[];
  constructor(code: RegistryErrorCode, message: string, problems: readonly Problem[] = []) {
    super(code, { status: statusOf[code], message });
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
