/** 浙江's adapter: its identity, pairwise sector, assurance scale, claim mapping and its legacy ticket protocol. */
import { provinceAdapter } from '../define.ts';
import { zhejiangLegacy } from './legacy.ts';
import { zhejiangAuthLevels, zhejiangMapping } from './mapping.ts';

/** 浙江: 浙里办 / 浙江政务服务网. */
export const zhejiang = provinceAdapter({
  id: 'zhejiang',
  provinceCode: '330000',
  name: '浙江',
  platform: '浙里办 / 浙江政务服务网',
  sector: 'urn:tongban:sector:zhejiang',
  mapping: zhejiangMapping,
  assuranceScale: [1, 2, 3],
  assurance: zhejiangAuthLevels,
  legacy: zhejiangLegacy,
});
