/**
 * Argument parsing of the operator CLI (node:util parseArgs, strict): one place that turns a bad
 * option into a UsageError (exit status 2), and the small readers of option values.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export type Options = ParseArgsConfig['options'];
export type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: string[];
}

export function parse(args: string[], options: Options, positionals: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals === 0 ? `unexpected argument "${parsed.positionals[0]}"` : `expected ${positionals} argument(s), got ${parsed.positionals.length}`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

export const str = (values: Values, name: string): string | undefined => values[name] as string | undefined;
export const list = (values: Values, name: string): string[] | undefined => values[name] as string[] | undefined;

export function ttlSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)([smhd]?)$/.exec(value);
  if (!match) throw new UsageError(`--ttl "${value}" is not a duration such as 3600, 30m, 12h or 7d`);
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * factor;
}

export function readJwks(path: string | undefined): unknown {
  if (path === undefined) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--jwks ${path}: cannot be read as JSON (${(error as Error).message.split('\n')[0]})`);
  }
}
