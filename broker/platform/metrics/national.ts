/**
 * Wraps the national-platform connector to time each call and count failures by their error code
 * (`upstream_timeout`, `identity_invalid`, ...); the connector itself stays unaware of metrics.
 * Generic over the connector's shape, so platform code does not import the connector.
 */
import type { Metrics } from './registry.ts';

/** The national connector's operations, named as the national endpoints they reach. */
export const nationalEndpoints = {
  start: 'authorization',
  finish: 'token',
  currentMandates: 'userinfo',
  endSessionUrl: 'end_session',
} as const;

type Methods<T> = { [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];

export function meterNational<T extends object>(
  national: T,
  metrics: Metrics,
  endpoints: Partial<Record<Methods<T> & string, string>> = nationalEndpoints as never,
): T {
  const wrapper: Record<string, unknown> = {};
  for (const [method, endpoint] of Object.entries(endpoints) as Array<[string, string]>) {
    const call = (national as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    if (typeof call !== 'function') continue;
    wrapper[method] = async (...args: unknown[]) => {
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const result = await call.apply(national, args);
        metrics.nationalCall(endpoint, seconds());
        return result;
      } catch (error) {
        const code = (error as { code?: unknown })?.code;
        metrics.nationalCall(endpoint, seconds(), typeof code === 'string' ? code : 'error');
        throw error;
      }
    };
  }
  return Object.assign(Object.create(national) as T, wrapper);
}
