/**
 * Which configuration a program reads, and the one line on stderr that says so (file, store,
 * namespace; never a secret), so an operator always sees which broker a CLI manages:
 *
 *   - TONGBAN_CONFIG names the file (empty: defaults and TONGBAN_* variables only), for the broker
 *     (`npm run broker`), `npm start` and the operator CLIs (cities, keys, audit) alike;
 *   - without it, `npm start` reads config/demo.json, and so does an operator CLI pointed nowhere
 *     else (no TONGBAN_MODE, no TONGBAN_STORE): it then manages the broker `npm start` runs, on the
 *     same store, with the same configured clients. A CLI given a mode or store of its own reads no
 *     file, like `npm run broker` given the same variables.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TongbanConfig } from '../../config/defaults.ts';
import { ConfigError, loadConfig, type LoadOptions } from '../../config/load.ts';

/** The configuration `npm start` runs with (development mode, its demo clients). */
export const demoConfigFile = fileURLToPath(new URL('../../config/demo.json', import.meta.url));

type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigSource {
  /** The JSON file read, or undefined for defaults and TONGBAN_* variables only. */
  readonly file: string | undefined;
  /** Why this file: shown to the operator. */
  readonly reason: string;
}

/** Who reads: the broker itself, the demo federation (`npm start`), or an operator CLI. */
export type Program = 'broker' | 'demo' | 'cli';

/** The configuration file `program` reads when started with `env` (see the rule above). */
export function configSourceOf(env: Env, program: Program): ConfigSource {
  const named = env.TONGBAN_CONFIG;
  if (named !== undefined) {
    return named === '' ? { file: undefined, reason: 'TONGBAN_CONFIG is empty' } : { file: named, reason: 'TONGBAN_CONFIG' };
  }
  if (program === 'demo') return { file: demoConfigFile, reason: 'npm start; TONGBAN_CONFIG names another' };
  if (program === 'cli' && !env.TONGBAN_MODE && !env.TONGBAN_STORE) {
    return { file: demoConfigFile, reason: 'as npm start; TONGBAN_CONFIG, TONGBAN_MODE or TONGBAN_STORE to manage another broker' };
  }
  return { file: undefined, reason: 'no TONGBAN_CONFIG' };
}

/** Loads the configuration by that rule (throws ConfigError like loadConfig). */
export function loadProgramConfig(env: Env, program: Program, overrides?: LoadOptions['overrides']): { config: TongbanConfig; source: ConfigSource } {
  const source = configSourceOf(env, program);
  // An explicit empty file name: loadConfig must not fall back to TONGBAN_CONFIG.
  const config = loadConfig({ env, file: source.file ?? '', ...(overrides ? { overrides } : {}) });
  return { config, source };
}

/** The store URL without credentials. */
export function storeText(store: string): string {
  return store.replace(/\/\/[^@/]*@/, '//…@');
}

/** One line for stderr: which configuration and store a program uses (no secrets). */
export function configurationLine(program: string, config: TongbanConfig, source: ConfigSource): string {
  const near = source.file === undefined ? undefined : relative(process.cwd(), source.file);
  const file = source.file === undefined ? 'no config file' : `config ${near && !near.startsWith('..') ? near : source.file}`;
  return `${program}: ${file} (${source.reason}); store ${storeText(config.store)}, namespace ${config.storeNamespace}\n`;
}

/**
 * A program's configuration by that rule, its line written to stderr; undefined after writing the
 * problems of an invalid configuration there (the program then exits with 2).
 */
export function configurationFor(program: Program, name: string, env: Env = process.env): TongbanConfig | undefined {
  try {
    const { config, source } = loadProgramConfig(env, program);
    process.stderr.write(configurationLine(name, config, source));
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return undefined;
  }
}
