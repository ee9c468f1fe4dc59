/**
 * Login counts for the dashboard's charts, kept in the shared store (not in one node's memory) so
 * that every node contributes and any node serves the page: one counter group per minute and one
 * per hour, each counter named `province|city|outcome`, kept a day and a bit. Codes only, never a person.
 */
import { provinceOf } from '../identity/identifiers.ts';
import type { Store } from '../platform/storage/types.ts';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
/** A day and two hours: the day chart's oldest hour is still there when the page is read. */
const keptMs = 26 * hourMs;
const unknown = 'unknown';

export type CountWindow = 'hour' | 'day';

/** One chart's data: buckets in time order, and totals by province, city and failure reason. */
export interface LoginSeries {
  readonly window: CountWindow;
  readonly bucketSeconds: number;
  /** Start of each bucket, ISO 8601. */
  readonly buckets: readonly string[];
  readonly successes: readonly number[];
  readonly failures: readonly number[];
  readonly reasons: Readonly<Record<string, number>>;
  readonly provinces: Readonly<Record<string, { readonly success: number; readonly failure: number }>>;
  readonly cities: Readonly<Record<string, { readonly success: number; readonly failure: number }>>;
}

export interface LoginCounts {
  /** Counts one login answered to an app of `city` (success, or its error code). */
  record(login: { readonly city?: string; readonly outcome: string }, at?: number): Promise<void>;
  /** The last hour by minute, or the last day by hour; only `province` when given. */
  series(window: CountWindow, province?: string, now?: number): Promise<LoginSeries>;
}

const code = (value: string | undefined, pattern: RegExp) => (value && pattern.test(value) ? value : unknown);

export function createLoginCounts(store: Store): LoginCounts {
  const groupKey = (unit: 'm' | 'h', start: number) => `dashboard:logins:${unit}:${start}`;
  return {
    async record({ city, outcome }, at = Date.now()) {
      const cityCode = code(city, /^\d{6}$/);
      const province = cityCode === unknown ? unknown : provinceOf(cityCode);
      const field = `${province}|${cityCode}|${code(outcome, /^[A-Za-z0-9._:-]{1,64}$/)}`;
      await Promise.all([
        store.increment(groupKey('m', Math.floor(at / minuteMs) * minuteMs), field, 1, keptMs),
        store.increment(groupKey('h', Math.floor(at / hourMs) * hourMs), field, 1, keptMs),
      ]);
    },

    async series(window, province, now = Date.now()) {
      const [unit, size, count] = window === 'hour' ? ['m', minuteMs, 60] as const : ['h', hourMs, 24] as const;
      const last = Math.floor(now / size) * size;
      const starts = Array.from({ length: count }, (_, i) => last - (count - 1 - i) * size);
      const groups = await Promise.all(starts.map((start) => store.counters(groupKey(unit, start))));
      const successes: number[] = [];
      const failures: number[] = [];
      const reasons: Record<string, number> = {};
      const provinces: Record<string, { success: number; failure: number }> = {};
      const cities: Record<string, { success: number; failure: number }> = {};
      for (const group of groups) {
        let ok = 0;
        let failed = 0;
        for (const [field, n] of Object.entries(group)) {
          const [fieldProvince = unknown, city = unknown, outcome = unknown] = field.split('|');
          if (province && fieldProvince !== province) continue;
          const success = outcome === 'success';
          if (success) ok += n;
          else {
            failed += n;
            reasons[outcome] = (reasons[outcome] ?? 0) + n;
          }
          for (const [table, name] of [[provinces, fieldProvince], [cities, city]] as const) {
            const entry = (table[name] ??= { success: 0, failure: 0 });
            if (success) entry.success += n;
            else entry.failure += n;
          }
        }
        successes.push(ok);
        failures.push(failed);
      }
      return {
        window, bucketSeconds: size / 1000, buckets: starts.map((start) => new Date(start).toISOString()),
        successes, failures, reasons, provinces, cities,
      };
    },
  };
}
