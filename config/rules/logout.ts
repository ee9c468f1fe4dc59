/**
 * Validation of the `logout` configuration keys (see config/defaults.ts), reported the way
 * `loadConfig` reports everything else: one line per problem, each with its key.
 */
import type { TongbanConfig } from '../defaults.ts';

export type LogoutSettings = TongbanConfig['logout'];

const bounds: Readonly<Record<keyof LogoutSettings, readonly [number, number]>> = {
  giveUpAfterSeconds: [1, 30 * 24 * 3600],
  firstRetryDelayMs: [10, 3600_000],
  maxRetryDelayMs: [10, 24 * 3600_000],
  pollIntervalMs: [10, 600_000],
  deliveryTimeoutMs: [100, 60_000],
  givenUpRetentionSeconds: [60, 365 * 24 * 3600],
};

export function validateLogoutSettings(value: unknown, problems: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('logout: must be an object');
    return;
  }
  const settings = value as Record<string, unknown>;
  for (const [key, [min, max]] of Object.entries(bounds)) {
    const n = settings[key];
    if (!Number.isInteger(n) || (n as number) < min || (n as number) > max) {
      problems.push(`logout.${key}: must be an integer ${min}–${max}`);
    }
  }
  for (const key of Object.keys(settings)) {
    if (!(key in bounds)) problems.push(`logout.${key}: unknown key`);
  }
  if (Number.isInteger(settings.firstRetryDelayMs) && Number.isInteger(settings.maxRetryDelayMs)
    && (settings.maxRetryDelayMs as number) < (settings.firstRetryDelayMs as number)) {
    problems.push('logout.maxRetryDelayMs: must not be below logout.firstRetryDelayMs');
  }
}
