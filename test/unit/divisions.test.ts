/**
 * Member-city codes are real GB/T 2260 divisions (config/divisions.json) in provinces with an
 * adapter, and CLI tables line up Chinese names by their display width.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { seedCities } from '../../config/cities.ts';
import { divisionName, memberCityCodeProblem } from '../../config/divisions.ts';
import { provinceAdapters } from '../../adapters/registry.ts';
import { alignedTable, displayWidth } from '../../scripts/cli/display-width.ts';
import { divisionTable } from '../../scripts/dev/divisions.ts';

describe('GB/T 2260 divisions (config/divisions.json)', () => {
  it('holds provinces, prefectures and counties, every seed city and every adapter province among them', () => {
    assert.equal(divisionName('330000'), '浙江省');
    assert.equal(divisionName('330400'), '嘉兴市');
    assert.equal(divisionName('330421'), '嘉善县');
    assert.equal(divisionName('123456'), undefined);
    assert.equal(divisionName('3304'), undefined);
    for (const city of seedCities) assert.ok(divisionName(city.code), `seed city ${city.code} ${city.name}`);
    for (const province of Object.keys(provinceAdapters)) assert.ok(divisionName(province), province);
    const table = JSON.parse(readFileSync(new URL('../../config/divisions.json', import.meta.url), 'utf8')) as Record<string, string>;
    assert.ok(Object.keys(table).length > 3000);
    assert.ok(Object.keys(table).every((code) => /^\d{6}$/.test(code)));
  });

  it('accepts a real division of a province with an adapter, refuses the rest saying why', () => {
    assert.equal(memberCityCodeProblem('330421'), undefined);
    assert.equal(memberCityCodeProblem('310118'), undefined);
    assert.match(memberCityCodeProblem('123456')!, /"123456" is not a GB\/T 2260 division code/);
    assert.match(memberCityCodeProblem('33010')!, /6-digit/);
    const beijing = memberCityCodeProblem('110105')!;
    assert.match(beijing, /朝阳区.*province 110000 \(北京市\), which has no adapter/);
    assert.match(beijing, /adapters\/_template\/.*adapters\/registry\.ts \(adapters\/README\.md, "Adding a province"\)/);
  });

  it('the generator pads province and prefecture codes to six digits', () => {
    assert.deepEqual(divisionTable([{ code: '33', name: '浙江省' }], [{ code: '3304', name: '嘉兴市' }], [{ code: '330421', name: '嘉善县' }]),
      { 330000: '浙江省', 330400: '嘉兴市', 330421: '嘉善县' });
    assert.throws(() => divisionTable([{ code: '3', name: 'x' }], [], []), /unexpected division code/);
  });
});

describe('display width of CLI tables', () => {
  it('counts Chinese and fullwidth characters as two columns', () => {
    assert.equal(displayWidth('330100'), 6);
    assert.equal(displayWidth('杭州'), 4);
    assert.equal(displayWidth('马鞍山'), 6);
    assert.equal(displayWidth('杭州市民中心（演示）'), 20);
    assert.equal(displayWidth('e\u0301'), 1);
  });

  it('aligns the column after two- and three-character names', () => {
    const lines = alignedTable([['code', 'name', 'apps'], ['330100', '杭州', '1'], ['340500', '马鞍山', '0']]).split('\n');
    const appsColumn = lines.map((line) => displayWidth(line.slice(0, line.lastIndexOf('  ') + 2)));
    assert.deepEqual(appsColumn, [16, 16, 16]);
    assert.equal(lines[2], '340500  马鞍山  0');
  });
});
