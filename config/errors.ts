/**
 * The error a configuration that cannot run raises: every problem at once, each with its key, under
 * one stable code. Config's own, so that config/ needs nothing of the broker to report.
 */

/** Stable code of an invalid configuration (the broker's catalogue uses the same text). */
const configInvalidCode = 'config_invalid';

export class ConfigError extends Error {
  readonly code = configInvalidCode;
  readonly status = 500;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
