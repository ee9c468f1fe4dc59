/**
 * Why an electronic licence was refused, as stable codes (jose style) a service branches on.
 */

/**
 * @example
 * if (error.code === LicenceErrorCode.revoked) return askForAnotherDocument();
 */
export const LicenceErrorCode = {
  /** Not a compact JWS of type `licence+jwt`, or its content cannot be read. */
  malformed: 'ERR_LICENCE_MALFORMED',
  /** No published authority key has the document's `kid`, or the key belongs to another authority. */
  unknownAuthority: 'ERR_LICENCE_UNKNOWN_AUTHORITY',
  signatureInvalid: 'ERR_LICENCE_SIGNATURE_INVALID',
  expired: 'ERR_LICENCE_EXPIRED',
  notYetValid: 'ERR_LICENCE_NOT_YET_VALID',
  revoked: 'ERR_LICENCE_REVOKED',
  /** The holder is not the person (or company) the service expected. */
  wrongHolder: 'ERR_LICENCE_WRONG_HOLDER',
  /** Another licence type than the one expected. */
  wrongType: 'ERR_LICENCE_WRONG_TYPE',
  /** The library's keys or revocation list could not be fetched or failed their check: not judged. */
  libraryUnavailable: 'ERR_LICENCE_LIBRARY_UNAVAILABLE',
} as const;
export type LicenceErrorCode = (typeof LicenceErrorCode)[keyof typeof LicenceErrorCode];

/** A refused licence; `message` never contains the document or its personal data. */
export class LicenceError extends Error {
  readonly code: LicenceErrorCode;
  constructor(code: LicenceErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LicenceError';
    this.code = code;
  }
}

export function isLicenceError(value: unknown): value is LicenceError {
  return value instanceof LicenceError;
}
