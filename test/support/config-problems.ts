/**
 * What the configuration tests assert on: the problems a refused configuration lists (one
 * `ConfigError` with every problem at once), or a failure when it was accepted.
 */
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/load.ts';

/** The problems of the ConfigError `fn` throws; fails the test when it throws nothing or another error. */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}
