/** 江苏's adapter: its identity, pairwise sector, assurance scale, claim mapping and its legacy ticket protocol. */
import { provinceAdapter } from '../define.ts';
import { jiangsuLegacy } from './legacy.ts';
import { jiangsuAuthLevels, jiangsuMapping } from './mapping.ts';

/** 江苏: 江苏政务服务网. */
export const jiangsu = provinceAdapter({
  id: 'jiangsu',
  provinceCode: '320000',
  name: '江苏',
  platform: '江苏政务服务网',
  sector: 'urn:tongban:sector:jiangsu',
  mapping: jiangsuMapping,
  assuranceScale: [0, 1, 2],
  assurance: jiangsuAuthLevels,
  legacy: jiangsuLegacy,
});
