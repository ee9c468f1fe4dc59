// Keeps imports pointing one way: no file cycle, no two-way tie between units, no forbidden direction.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const scanned = ['broker', 'adapters', 'config', 'scripts', 'test'];
const specifier = /^\s*(?:(?:import|export)\s[^;]*?\sfrom\s+|import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Each source file and the source files it imports through relative specifiers. */
function importGraph(): Map<string, string[]> {
  const files = scanned.flatMap(sources);
  const known = new Set(files);
  return new Map(files.map((file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(specifier)]
      .map((match) => relative(root, resolve(root, dirname(file), match[1]!)).split('\\').join('/'))
      .filter((target) => known.has(target));
    return [file, [...new Set(targets)]];
  }));
}

/** broker/<folder>, broker root files, adapters, config, scripts/<cli|dev>, test. */
function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'broker') return parts.length > 2 ? `broker/${parts[1]}` : 'broker';
  if (parts[0] === 'scripts') return parts.length > 2 ? `scripts/${parts[1]}` : 'scripts';
  return parts[0]!;
}

function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

function forbidden(from: string, to: string): string | undefined {
  const inside = (file: string, ...folders: string[]) => folders.some((folder) => file.startsWith(`${folder}/`));
  if (inside(from, 'adapters') && inside(to, 'broker') && !inside(to, 'broker/identity')) {
    return 'adapters/ imports nothing of broker/ beyond broker/identity/';
  }
  if (inside(from, 'broker', 'adapters', 'config') && inside(to, 'scripts', 'test')) return 'the product never imports scripts/ or test/';
  if (inside(from, 'scripts') && inside(to, 'test')) return 'scripts/ never import test/';
  return undefined;
}

describe('imports', () => {
  const graph = importGraph();
  const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

  it('finds the sources and their imports', () => {
    assert.ok(graph.size > 50 && edges.length > 100, `${graph.size} files, ${edges.length} imports`);
  });

  it('has no import cycle between files', () => {
    assert.deepEqual(findCycles(graph).map((cycle) => cycle.join(' -> ')), []);
  });

  it('has no two-way tie between units', () => {
    const ties = new Map<string, string>();
    for (const { from, to } of edges) {
      const [a, b] = [unitOf(from), unitOf(to)];
      if (a !== b && !ties.has(`${a} -> ${b}`)) ties.set(`${a} -> ${b}`, `${from} -> ${to}`);
    }
    const twoWay = [...ties].filter(([key]) => {
      const [a, b] = key.split(' -> ');
      return a! < b! && ties.has(`${b} -> ${a}`);
    }).map(([key, chain]) => `${key}: ${chain} and ${ties.get(key.split(' -> ').reverse().join(' -> '))}`);
    assert.deepEqual(twoWay, []);
  });

  it('imports only in the allowed directions', () => {
    const wrong = edges.flatMap(({ from, to }) => {
      const rule = forbidden(from, to);
      return rule ? [`${from} -> ${to} (${rule})`] : [];
    });
    assert.deepEqual(wrong, []);
  });
});
