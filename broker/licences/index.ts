/** Electronic licences (电子证照) relayed from the national library; see relay.ts and docs/licences.md. This file only re-exports. */
export { createLicenceRelay, type LicenceAudit, type LicenceRelayOptions } from './relay.ts';
export { createLicenceLibraryClient, LibraryError, type LibraryDocument, type LicenceLibraryClient } from './library.ts';
export { isLicenceScope, licenceLabels, licenceScopes, licenceType, licenceTypeOf, licenceTypes, nationalLicenceScope, type LicenceScope, type LicenceType } from './types.ts';
