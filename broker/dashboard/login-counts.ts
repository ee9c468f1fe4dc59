/**
 * Login counts for the dashboard's charts, kept in the shared store (not in one node's memory) so
 * that every node contributes and any node serves the page: one counter group per minute and one
 * per hour, each counter named `province|city|outcome`, kept a day and a bit. Codes only, never a person.
 *
 * A login is counted in this node's memory and the counts go to the store every `flushIntervalMs`
 * (and on close), one increment per counter that moved: a busy node pays a few increments per
 * interval instead of two scripts per login. A chart read on this node adds what it has not flushed
 * yet, so its own logins show at once; other nodes' logins show within one interval. Counts a flush
 * could not write stay for the next one (those of groups past their day are dropped), so an outage
 * of the store delays them rather than losing them.
 */
import { provinceOf } from '../identity/identifiers.ts';
import { createSerialQueue } from '../platform/storage/common.ts';
import type { Store } from '../platform/storage/types.ts';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
/** A day and two hours: the day chart's oldest hour is still there when the page is read. */
const keptMs = 26 * hourMs;
/** Other nodes' logins reach a chart within this; a few increments per counter group per interval. */
const defaultFlushIntervalMs = 5_000;
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
  /** Counts one login answered to an app of `city` (success, or its error code), on this node until the next flush. */
  record(login: { readonly city?: string; readonly outcome: string }, at?: number): void;
  /** The last hour by minute, or the last day by hour; only `province` when given. */
  series(window: CountWindow, province?: string, now?: number): Promise<LoginSeries>;
  /** Writes this node's counts to the store now (the timer does it every interval). */
  flush(): Promise<void>;
  /** Stops the timer and flushes: called before the store closes. */
  close(): Promise<void>;
}

export interface LoginCountsOptions {
  readonly flushIntervalMs?: number;
  /** A flush that could not write everything (its counts are kept for the next). */
  readonly onFlushError?: (error: unknown) => void;
}

/** Counts not yet in the store: by counter group key, then by field. */
type Pending = Map<string, { readonly start: number; readonly fields: Map<string, number> }>;

function add(pending: Pending, group: string, start: number, field: string, by: number): void {
  let entry = pending.get(group);
  if (!entry) {
    entry = { start, fields: new Map() };
    pending.set(group, entry);
  }
  entry.fields.set(field, (entry.fields.get(field) ?? 0) + by);
}

const code = (value: string | undefined, pattern: RegExp) => (value && pattern.test(value) ? value : unknown);

export function createLoginCounts(store: Store, options: LoginCountsOptions = {}): LoginCounts {
  const groupKey = (unit: 'm' | 'h', start: number) => `dashboard:logins:${unit}:${start}`;
  const flushIntervalMs = options.flushIntervalMs ?? defaultFlushIntervalMs;
  let pending: Pending = new Map();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // Flushes and reads one after another: a read sees each count once, in the store or still here.
  const serially = createSerialQueue();

  const flushNow = async () => {
    if (pending.size === 0) return;
    const taken = pending;
    pending = new Map();
    const writes = [...taken].flatMap(([group, { start, fields }]) => [...fields].map(([field, by]) => ({ group, start, field, by })));
    const results = await Promise.allSettled(writes.map(({ group, field, by }) => store.increment(group, field, by, keptMs)));
    const oldest = Date.now() - keptMs;
    let failure: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      failure ??= result.reason;
      const { group, start, field, by } = writes[i]!;
      if (start >= oldest) add(pending, group, start, field, by);
    });
    if (failure !== undefined) options.onFlushError?.(failure);
  };
  const flush = () => serially(flushNow);

  return {
    record({ city, outcome }, at = Date.now()) {
      const cityCode = code(city, /^\d{6}$/);
      const province = cityCode === unknown ? unknown : provinceOf(cityCode);
      const field = `${province}|${cityCode}|${code(outcome, /^[A-Za-z0-9._:-]{1,64}$/)}`;
      const minute = Math.floor(at / minuteMs) * minuteMs;
      const hour = Math.floor(at / hourMs) * hourMs;
      add(pending, groupKey('m', minute), minute, field, 1);
      add(pending, groupKey('h', hour), hour, field, 1);
      if (!timer && !closed) {
        // One timed flush at a time: a store that hangs does not pile them up.
        let running = false;
        timer = setInterval(() => {
          if (running) return;
          running = true;
          flush().catch((error: unknown) => options.onFlushError?.(error)).finally(() => {
            running = false;
          });
        }, flushIntervalMs);
        timer.unref();
      }
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      await flush();
    },

    async series(window, province, now = Date.now()) {
      const [unit, size, count] = window === 'hour' ? ['m', minuteMs, 60] as const : ['h', hourMs, 24] as const;
      const last = Math.floor(now / size) * size;
      const starts = Array.from({ length: count }, (_, i) => last - (count - 1 - i) * size);
      const groups = await serially(() => Promise.all(starts.map(async (start) => {
        const group = groupKey(unit, start);
        const counts = await store.counters(group);
        // This node's counts not flushed yet.
        for (const [field, n] of pending.get(group)?.fields ?? []) counts[field] = (counts[field] ?? 0) + n;
        return counts;
      })));
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
