/**
 * How many back-channel logout deliveries wait, and for how long, per province: one reading feeds
 * both the dashboard and the metrics, so the two never disagree. Read from the shared store, so
 * every node reports the whole federation's queue.
 */
import type Provider from 'oidc-provider';
import { appCity, provinceLabel } from '../platform/metrics/index.ts';
import type { DeliveryQueue } from './queue.ts';

export type LogoutQueueDepth = Record<string, { waiting: number; oldestSeconds: number }>;

export function logoutQueueDepthOf(provider: Provider, queue: Pick<DeliveryQueue, 'pending'>): () => Promise<LogoutQueueDepth> {
  return async () => {
    const depth: LogoutQueueDepth = {};
    const now = Date.now();
    for (const delivery of await queue.pending()) {
      const province = provinceLabel(await appCity(provider, delivery.clientId));
      const entry = (depth[province] ??= { waiting: 0, oldestSeconds: 0 });
      entry.waiting += 1;
      entry.oldestSeconds = Math.max(entry.oldestSeconds, (now - delivery.createdAt) / 1000);
    }
    return depth;
  };
}
