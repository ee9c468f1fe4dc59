/** 安徽's adapter: its identity, pairwise sector, assurance scale, claim mapping. */
import { provinceAdapter } from '../define.ts';
import { anhuiAuthLevels, anhuiMapping } from './mapping.ts';

/** 安徽: 皖事通. */
export const anhui = provinceAdapter({
  id: 'anhui',
  provinceCode: '340000',
  name: '安徽',
  platform: '皖事通',
  sector: 'urn:tongban:sector:anhui',
  mapping: anhuiMapping,
  assuranceScale: ['none', 'low', 'substantial', 'high'],
  assurance: anhuiAuthLevels,
});
