/** Prometheus metrics of the broker (docs/operators.md, "Metrics"). */
export { createMetrics, labelValue, provinceLabel, unknownLabel, type LoginOutcome, type LogoutQueueDepth, type Metrics } from './registry.ts';
export { createMetricsListener, type MetricsListener, type MetricsListenerOptions } from './listener.ts';
export { meterStore } from './store.ts';
export { meterNational, nationalEndpoints } from './national.ts';
export { appCity, installProviderMetrics, metricsOf, tokenEvents } from './provider.ts';
