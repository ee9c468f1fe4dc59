/**
 * Legal persons: a company acts through its legal representative or an authorised agent (经办人);
 * see service.ts and docs/legal-persons.md. This file only re-exports.
 */
export type { CheckActingRequest, CompanyOptions, LegalPersons, LegalPersonsOptions, NationalLoginFacts } from './contract.ts';
export { createLegalPersons } from './service.ts';
export { LegalPersonError, noCompanyError, unverifiableError } from './errors.ts';
export { companyChoicePath, companyPromptName, legalPersonScope } from './names.ts';
