/**
 * The operator CLIs manage the broker they are meant to: without settings, the one `npm start`
 * runs (config/demo.json, its clients); they name the configuration and store on stderr, so
 * `--json` output stays parseable; and `add-city` takes only real codes of provinces with an adapter.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCities } from '../../scripts/cli/cities.ts';
import { configSourceOf, demoConfigFile } from '../../scripts/cli/configuration.ts';
import { displayWidth } from '../../scripts/cli/display-width.ts';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('which configuration the CLIs read', () => {
  it('the CLI with no settings reads what npm start reads; a file, mode or store of its own reads no demo file', () => {
    assert.deepEqual(configSourceOf({}, 'demo').file, demoConfigFile);
    assert.deepEqual(configSourceOf({}, 'cli').file, demoConfigFile);
    assert.equal(configSourceOf({ TONGBAN_CONFIG: '/etc/tongban.json' }, 'cli').file, '/etc/tongban.json');
    assert.equal(configSourceOf({ TONGBAN_CONFIG: '/etc/tongban.json' }, 'demo').file, '/etc/tongban.json');
    assert.equal(configSourceOf({ TONGBAN_CONFIG: '' }, 'cli').file, undefined);
    assert.equal(configSourceOf({ TONGBAN_STORE: 'postgres://db.example/tongban' }, 'cli').file, undefined);
    assert.equal(configSourceOf({ TONGBAN_MODE: 'production' }, 'cli').file, undefined);
    // The broker never falls back to the demo file: its mode is chosen explicitly (fail closed).
    assert.equal(configSourceOf({}, 'broker').file, undefined);
  });

  describe('cities CLI on the demo configuration', function () {
    this.timeout(30_000);
    let dir: string;
    let env: Record<string, string | undefined>;
    const cli = async (...args: string[]): Promise<Run> => {
      let stdout = '';
      let stderr = '';
      const code = await runCities(args, { env, stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
      return { code, stdout, stderr };
    };

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tongban-cities-config-'));
      // What `npm start` reads, on a store of this test's own.
      env = { TONGBAN_CONFIG: demoConfigFile, TONGBAN_STORE: `sqlite:${join(dir, 'tongban.sqlite')}`, TONGBAN_STORE_NAMESPACE: 'citiesconfig' };
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('shows the demo portal of 杭州 that npm start serves, naming the configuration on stderr only', async () => {
      const shown = await cli('show', '330100');
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /hangzhou-portal\s+active\s+config/);
      assert.match(shown.stderr, /^cities: config config\/demo\.json \(TONGBAN_CONFIG\); store sqlite:.*tongban\.sqlite, namespace citiesconfig\n$/);
      const listed = await cli('list', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      const cities = (JSON.parse(listed.stdout) as { cities: Array<{ code: string; apps: number }> }).cities;
      assert.equal(cities.find((c) => c.code === '330100')?.apps, 1);
      assert.match(listed.stderr, /config\/demo\.json/);
    });

    it('refuses codes outside GB/T 2260 and provinces without an adapter; accepts a real county', async () => {
      const fake = await cli('add-city', '--code', '123456', '--name', '假城');
      assert.equal(fake.code, 1);
      assert.match(fake.stderr, /cities: invalid_division_code: code: "123456" is not a GB\/T 2260 division code/);
      const beijing = await cli('add-city', '--code', '110105', '--name', '朝阳区');
      assert.equal(beijing.code, 1);
      assert.match(beijing.stderr, /province 110000 \(北京市\), which has no adapter.*adapters\/README\.md/);
      const before = (JSON.parse((await cli('list', '--json')).stdout) as { cities: unknown[] }).cities.length;
      const added = await cli('add-city', '--code', '330421', '--name', '嘉善县');
      assert.equal(added.code, 0, added.stderr);
      assert.equal((JSON.parse((await cli('list', '--json')).stdout) as { cities: unknown[] }).cities.length, before + 1);
    });

    it('lists cities in aligned columns, three-character names included', async () => {
      const listed = await cli('list');
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trimEnd().split('\n');
      const appsColumn = new Set(lines.map((line) => displayWidth(line.slice(0, line.lastIndexOf('  ') + 2))));
      assert.equal(appsColumn.size, 1, listed.stdout);
      assert.ok(lines.some((line) => line.includes('马鞍山')));
      assert.ok(lines.some((line) => line.includes('嘉善县')));
    });
  });
});
