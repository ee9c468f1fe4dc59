/** 上海's adapter: its identity, pairwise sector, assurance scale, claim mapping. */
import { provinceAdapter } from '../define.ts';
import { shanghaiAuthLevels, shanghaiMapping } from './mapping.ts';

/** 上海: 随申办 / 一网通办. */
export const shanghai = provinceAdapter({
  id: 'shanghai',
  provinceCode: '310000',
  name: '上海',
  platform: '随申办 / 一网通办',
  sector: 'urn:tongban:sector:shanghai',
  mapping: shanghaiMapping,
  assuranceScale: ['L1', 'L2', 'L3', 'L4'],
  assurance: shanghaiAuthLevels,
});
