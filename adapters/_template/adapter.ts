/**
 * TEMPLATE: not registered. A copy becomes a province by filling in the identity below and adding
 * one line to ../registry.ts.
 */
import { provinceAdapter } from '../define.ts';
import { templateAuthLevels, templateMapping } from './mapping.ts';

export const template = provinceAdapter({
  /** Lower-case pinyin of the province. */
  id: 'template',
  /** GB/T 2260 province code (`xx0000`): member cities whose code starts with `xx` use this adapter. */
  provinceCode: '000000',
  name: '模板',
  platform: '省级政务服务平台',
  /** Unique per province: pairwise subjects and user ids are derived under it. Never change it once live. */
  sector: 'urn:tongban:sector:template',
  mapping: templateMapping,
  assuranceScale: ['none', 'low', 'substantial', 'high'],
  assurance: templateAuthLevels,
});
