/**
 * The electronic licence (电子证照) types tongban relays, as data: each one scope
 * `licence:<type>`, the holder it belongs to (a person or a company) and its consent wording.
 * Imports nothing, so the release rules, the member policy and the provider can all read it.
 */

export interface LicenceType {
  readonly type: string;
  /** Whose licence it is: a natural person (ID number) or a company (credit code). */
  readonly holder: 'person' | 'company';
  readonly zh: string;
  readonly en: string;
}

export const licenceTypes = [
  { type: 'id_card', holder: 'person', zh: '居民身份证（电子证照）', en: 'resident identity card (electronic licence)' },
  { type: 'household_register', holder: 'person', zh: '居民户口簿（电子证照）', en: 'household register (electronic licence)' },
  { type: 'marriage_certificate', holder: 'person', zh: '结婚证（电子证照）', en: 'marriage certificate (electronic licence)' },
  { type: 'business_licence', holder: 'company', zh: '营业执照（电子证照）', en: 'business licence (electronic licence)' },
] as const satisfies readonly LicenceType[];

export type LicenceTypeName = (typeof licenceTypes)[number]['type'];
export type LicenceScope = `licence:${LicenceTypeName}`;

/** The scope of the national access token that lets the broker ask the national licence library. */
export const nationalLicenceScope = 'licences';

export const licenceScopes: readonly LicenceScope[] = licenceTypes.map((t) => `licence:${t.type}` as LicenceScope);

export function isLicenceScope(scope: string): scope is LicenceScope {
  return (licenceScopes as readonly string[]).includes(scope);
}

export function licenceTypeOf(scope: string): LicenceType | undefined {
  return isLicenceScope(scope) ? licenceTypes.find((t) => `licence:${t.type}` === scope) : undefined;
}

export function licenceType(type: string): LicenceType | undefined {
  return licenceTypes.find((t) => t.type === type);
}

/** The consent page's wording of each licence scope. */
export const licenceLabels: Record<LicenceScope, { readonly zh: string; readonly en: string }> = Object.fromEntries(
  licenceTypes.map((t) => [`licence:${t.type}`, { zh: `电子证照：${t.zh}`, en: `electronic licence: ${t.en}` }]),
) as Record<LicenceScope, { readonly zh: string; readonly en: string }>;
