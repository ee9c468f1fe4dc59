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
    wrapper[method] = async (...args: unknown[]) => {
      const started = process.hrtime.bigint();
      let failed = false;
      try {
        return await (store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        metrics.storeOperation(method, Number(process.hrtime.bigint() - started) / 1e9, failed);
      }
    };
  }
  return wrapper as unknown as Store;
}
