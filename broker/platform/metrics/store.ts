/**
 * Wraps a Store to time every operation and count its failures, the way guard.ts wraps it to turn
 * failures into one error; the method name is the only label.
 */
import type { Store } from '../storage/types.ts';
import type { Metrics } from './registry.ts';

const metered = ['get', 'getMany', 'set', 'delete', 'consume', 'claim', 'addToSet', 'removeFromSet', 'members', 'deleteSet', 'appendToLog', 'readLog', 'logLength', 'increment', 'counters', 'ping', 'sweep'] as const;

export function meterStore(store: Store, metrics: Metrics): Store {
  const wrapper: Record<string, unknown> = { kind: store.kind, close: () => store.close() };
  for (const method of metered) {
    const observed = (started: bigint, failed: boolean) => metrics.storeOperation(method, Number(process.hrtime.bigint() - started) / 1e9, failed);
    // Not async: the caller gets the store's own promise, and the timing hangs beside it, so a
    // request waits no extra turn for it (every request makes several of these calls).
    wrapper[method] = (...args: unknown[]) => {
      const started = process.hrtime.bigint();
      let operation: Promise<unknown>;
      try {
        operation = Promise.resolve((store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, args));
      } catch (error) {
        observed(started, true);
        return Promise.reject(error);
      }
      operation.then(() => observed(started, false), () => observed(started, true));
      return operation;
    };
  }
  return wrapper as unknown as Store;
}
