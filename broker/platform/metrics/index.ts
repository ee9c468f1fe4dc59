/** Prometheus metrics of the broker (docs/operators.md, "Metrics"). */
export { createMetrics, labelValue, provinceLabel, type LoginOutcome, type LogoutQueueDepth, type Metrics } from './registry.ts';
export { createMetricsListener, type MetricsListener, type MetricsListenerOptions } from './listener.ts';
export { meterStore } from './store.ts';
export { meterNational } from './national.ts';
export { appCity, installProviderMetrics, metricsOf } from './provider.ts';
