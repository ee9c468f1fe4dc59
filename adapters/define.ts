/**
 * Builds a province adapter from its data: identity, a mapping table, an assurance table and, when
 * the province keeps one, its legacy protocol.
 * Every province is built this way, so the behaviour around the tables lives here once.
 */
import type { AssuranceLevel } from '../broker/identity/assurance.ts';
import { applyMapping, claimsByScopeOf, type MappingTable } from './apply.ts';
import type { LegacyProtocol } from './legacy.ts';
import type { ProvinceAdapter, ProvinceLevel } from './types.ts';

export interface ProvinceDefinition<L extends ProvinceLevel> {
  readonly id: string;
  readonly provinceCode: string;
  readonly name: string;
  readonly platform: string;
  readonly sector: string;
  readonly mapping: MappingTable;
  /** The province's scale, lowest first. */
  readonly assuranceScale: readonly L[];
  /** Broker level → province level. */
  readonly assurance: { readonly [K in AssuranceLevel]: L };
  /** The province's old ticket API, when it keeps one. */
  readonly legacy?: LegacyProtocol;
}

/**
 * @example
 * export const zhejiang = provinceAdapter({ id: 'zhejiang', provinceCode: '330000', ..., mapping, assurance });
 */
export function provinceAdapter<L extends ProvinceLevel>(definition: ProvinceDefinition<L>): ProvinceAdapter {
  const { mapping, assurance } = definition;
  return Object.freeze({
    id: definition.id,
    provinceCode: definition.provinceCode,
    name: definition.name,
    platform: definition.platform,
    sector: definition.sector,
    claimsByScope: claimsByScopeOf(mapping),
    assuranceScale: definition.assuranceScale,
    claims: (context) => applyMapping(mapping, context),
    assurance: (level) => assurance[level],
    // The national subject, never a document number: a hash of an ID number could be reversed by
    // anyone holding the key and a list of candidate numbers.
    accountId: (identity, derive) => derive(definition.sector, identity.person.nationalSubject),
    ...(definition.legacy ? { legacy: definition.legacy } : {}),
  } satisfies ProvinceAdapter);
}
