/**
 * Wraps a Store so that any backend failure surfaces as one error: `temporarily_unavailable`
 * with status 503 — a standard OAuth error inside oidc-provider's own endpoints, and a clear page
 * or JSON on the broker's routes — instead of a 500 with a driver message.
 */
import { errors } from 'oidc-provider';
import { ErrorCode, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from './types.ts';

export class StoreUnavailableError extends errors.OIDCProviderError {
  readonly code = ErrorCode.storeUnavailable;
  readonly messageZh = messageOf('store_unavailable', 'zh-CN');
  override error_description = 'the service is temporarily unavailable, try again later';
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    // Exposed: the standard error code is safe to show; the driver's message stays in `cause`.
    this.expose = true;
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}

const guarded = ['get', 'getMany', 'set', 'delete', 'consume', 'claim', 'addToSet', 'removeFromSet', 'members', 'deleteSet', 'appendToLog', 'readLog', 'logLength', 'increment', 'counters', 'ping', 'sweep'] as const;

export function guardStore(store: Store, logger: Logger): Store {
  const wrapper: Record<string, unknown> = { kind: store.kind, close: () => store.close() };
  for (const method of guarded) {
    wrapper[method] = async (...args: unknown[]) => {
      try {
        return await (store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        if (error instanceof errors.OIDCProviderError) throw error;
        logger.warn('store_unavailable', { code: ErrorCode.storeUnavailable, method, reason: (error as Error).name });
        throw new StoreUnavailableError(error);
      }
    };
  }
  return wrapper as unknown as Store;
}
