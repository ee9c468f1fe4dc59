/**
 * The broker's one assurance scale (`acr` values), ordered. This file is the single place it is
 * defined; the national platform's levels map in here, each province adapter maps out of it.
 *
 * | acr                 | level | meaning                                                        |
 * | ------------------- | ----- | -------------------------------------------------------------- |
 * | urn:tongban:loa:1   | 1     | account only, not real-name verified (未实名)                   |
 * | urn:tongban:loa:2   | 2     | basic real-name: document data matched (初级实名)               |
 * | urn:tongban:loa:3   | 3     | advanced real-name: two factors checked against registers (高级实名) |
 * | urn:tongban:loa:4   | 4     | person verified: face check or certificate (实人实名实证)       |
 *
 * eIDAS reference: 2 ≈ low, 3 ≈ substantial, 4 ≈ high.
 */
export const assuranceLevels = [1, 2, 3, 4] as const;
export type AssuranceLevel = (typeof assuranceLevels)[number];

export const acrPrefix = 'urn:tongban:loa:';
export const acrValues = assuranceLevels.map((level) => `${acrPrefix}${level}`);

export function acrOf(level: AssuranceLevel): string {
  return `${acrPrefix}${level}`;
}

export function levelOfAcr(acr: string): AssuranceLevel | undefined {
  if (!acr.startsWith(acrPrefix)) return undefined;
  const level = Number(acr.slice(acrPrefix.length));
  return (assuranceLevels as readonly number[]).includes(level) ? (level as AssuranceLevel) : undefined;
}

export function isAssuranceLevel(value: unknown): value is AssuranceLevel {
  return typeof value === 'number' && (assuranceLevels as readonly number[]).includes(value);
}

/**
 * The national platform's levels, as modelled by the simulator and documented in
 * `scripts/simulator/README.md`: `urn:cn:gov:zwfw:loa:<1..4>` with the same meaning as ours.
 */
export const nationalAcrPrefix = 'urn:cn:gov:zwfw:loa:';

export function levelFromNationalAcr(acr: unknown): AssuranceLevel | undefined {
  if (typeof acr !== 'string' || !acr.startsWith(nationalAcrPrefix)) return undefined;
  const level = Number(acr.slice(nationalAcrPrefix.length));
  return isAssuranceLevel(level) ? level : undefined;
}

export function nationalAcrOf(level: AssuranceLevel): string {
  return `${nationalAcrPrefix}${level}`;
}
