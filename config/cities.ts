/**
 * The member cities the registry starts with: the 26 cities of the 2016 Yangtze River Delta
 * city-cluster plan plus 温州, the first "+X" (shared/reference/cities.md). Operators add more at
 * run time (`npm run cities -- add-city`); this list only seeds an empty registry.
 */

export interface SeedCity {
  /** GB/T 2260 division code; its first two digits name the province. */
  readonly code: string;
  readonly name: string;
}

export const seedCities: readonly SeedCity[] = [
  { code: '310000', name: '上海' },
  { code: '320100', name: '南京' },
  { code: '320200', name: '无锡' },
  { code: '320400', name: '常州' },
  { code: '320500', name: '苏州' },
  { code: '320600', name: '南通' },
  { code: '320900', name: '盐城' },
  { code: '321000', name: '扬州' },
  { code: '321100', name: '镇江' },
  { code: '321200', name: '泰州' },
  { code: '330100', name: '杭州' },
  { code: '330200', name: '宁波' },
  { code: '330300', name: '温州' },
  { code: '330400', name: '嘉兴' },
  { code: '330500', name: '湖州' },
  { code: '330600', name: '绍兴' },
  { code: '330700', name: '金华' },
  { code: '330900', name: '舟山' },
  { code: '331000', name: '台州' },
  { code: '340100', name: '合肥' },
  { code: '340200', name: '芜湖' },
  { code: '340500', name: '马鞍山' },
  { code: '340700', name: '铜陵' },
  { code: '340800', name: '安庆' },
  { code: '341100', name: '滁州' },
  { code: '341700', name: '池州' },
  { code: '341800', name: '宣城' },
];
