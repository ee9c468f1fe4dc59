/**
 * The one static registry of province adapters, keyed by GB/T 2260 province code. Adding a
 * province is one line here (and one folder), its legacy protocol included.
 */
import { isDivisionCode, provinceOf } from '../broker/identity/identifiers.ts';
import { anhui } from './anhui/index.ts';
import { jiangsu } from './jiangsu/index.ts';
import { shanghai } from './shanghai/index.ts';
import type { LegacyProtocol } from './legacy.ts';
import type { ProvinceAdapter } from './types.ts';
import { zhejiang } from './zhejiang/index.ts';

export const provinceAdapters: Readonly<Record<string, ProvinceAdapter>> = Object.freeze({
  '310000': shanghai,
  '320000': jiangsu,
  '330000': zhejiang,
  '340000': anhui,
});

/** Every registered adapter, in province-code order. */
export function registeredAdapters(): readonly ProvinceAdapter[] {
  return Object.values(provinceAdapters);
}

/** The adapter of a province code (`330000`), or undefined. */
export function adapterForProvince(provinceCode: string): ProvinceAdapter | undefined {
  return Object.hasOwn(provinceAdapters, provinceCode) ? provinceAdapters[provinceCode] : undefined;
}

/**
 * The adapter of the province a division belongs to (first two digits), or undefined when the
 * code is not a division code or its province has no adapter.
 *
 * @example
 * adapterForDivision('330400')?.id // 'zhejiang' (嘉兴)
 */
export function adapterForDivision(divisionCode: string): ProvinceAdapter | undefined {
  return isDivisionCode(divisionCode) ? adapterForProvince(provinceOf(divisionCode)) : undefined;
}

export function adapterById(id: string): ProvinceAdapter | undefined {
  return registeredAdapters().find((adapter) => adapter.id === id);
}

/** An adapter whose province keeps a legacy ticket API. */
export type LegacyAdapter = ProvinceAdapter & { readonly legacy: LegacyProtocol };

/** Every adapter with a legacy protocol, in province-code order. */
export function legacyAdapters(): readonly LegacyAdapter[] {
  return registeredAdapters().filter((adapter): adapter is LegacyAdapter => adapter.legacy !== undefined);
}

/** Ids of the provinces with a legacy ticket API (`jiangsu`, `zhejiang`). */
export const legacyProvinces: readonly string[] = Object.freeze(legacyAdapters().map((adapter) => adapter.id));

export function isLegacyProvince(value: unknown): value is string {
  return typeof value === 'string' && legacyProvinces.includes(value);
}
