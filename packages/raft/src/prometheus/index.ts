/**
 * @pontoon/raft/prometheus: RaftNode's metrics for prom-client (an optional peer dependency;
 * the main entry point never loads it).
 *
 * ```ts
 * import { Registry } from 'prom-client';
 * import { PrometheusRaftMetrics } from '@pontoon/raft/prometheus';
 * const registry = new Registry();
 * const node = new RaftNode({ ...options, metrics: new PrometheusRaftMetrics({ registry }) });
 * // serve `await registry.metrics()` on /metrics
 * ```
 */
export { PrometheusRaftMetrics } from './prometheus-metrics.js';
export type { PrometheusRaftMetricsOptions } from './prometheus-metrics.js';
export type { RaftMetrics, ProposalOutcome } from '../node/metrics.js';
