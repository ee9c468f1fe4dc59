/**
 * How many back-channel logout deliveries wait, and for how long, per province: one reading feeds
 * both the dashboard and the metrics, so the two never disagree. Read from the shared store, so
 * every node reports the whole federation's queue.
 */
import type Provider from 'oidc-provider';
import { appCity, provinceLabel, type LogoutQueueDepth } from '../platform/metrics/index.ts';
import type { DeliveryQueue } from './queue.ts';

export function logoutQueueDepthOf(provider: Provider, queue: Pick<DeliveryQueue, 'pending'>): LogoutQueueDepth {
  return async () => {
    const depth: Record<string, { waiting: number; oldestSeconds: number }> = {};
    const now = Date.now();
    // Many deliveries share a few clients: look each client up once per reading.
    const provinces = new Map<string, string>();
    for (const delivery of await queue.pending()) {
      let province = provinces.get(delivery.clientId);
      if (province === undefined) provinces.set(delivery.clientId, province = provinceLabel(await appCity(provider, delivery.clientId)));
      const entry = (depth[province] ??= { waiting: 0, oldestSeconds: 0 });
      entry.waiting += 1;
      entry.oldestSeconds = Math.max(entry.oldestSeconds, (now - delivery.createdAt) / 1000);
    }
    return depth;
  };
}
