/**
 * The instrumentation interface every component writes to. Components declare their
 * instruments once (at construction) and update them on the hot path; the Prometheus adapter
 * (prometheus.ts) implements it, `noopMetrics` discards everything (unit tests, tools).
 */
export type Labels = Record<string, string | number>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
  /** Drops the series of `labels` (a partition or group that is gone), so it is no longer exported. */
  remove(labels: Labels): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface InstrumentSpec {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export interface Metrics {
  counter(spec: InstrumentSpec): Counter;
  gauge(spec: InstrumentSpec & { collect?: () => Promise<void> | void }): Gauge;
  /** Buckets in the instrument's unit (seconds for latencies). */
  histogram(spec: InstrumentSpec & { buckets: readonly number[] }): Histogram;
}

/**
 * One exported sample of an instrument as the Prometheus adapter renders it: a counter's or
 * gauge's series, or one part of a histogram's (`<name>_bucket` with its `le`, `_sum`, `_count`).
 */
export interface MetricSample {
  name: string;
  labels: Labels;
  value: number;
}

/**
 * Reads instruments by name, with the values /metrics would render for them now (their collect
 * callbacks run). Instruments this process never declared are absent from the answer.
 */
export interface MetricsReader {
  read(names: readonly string[]): Promise<Map<string, MetricSample[]>>;
}

const noop = { inc() {}, dec() {}, set() {}, remove() {}, observe() {} };
export const noopMetrics: Metrics = { counter: () => noop, gauge: () => noop, histogram: () => noop };

/** Latency buckets in seconds, 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * `shopstream_e2e_latency_seconds{stage}`: from the outbox commit of a change (its committed_at)
 * to a stage: `kafka` (the relay's publish acknowledged), `streams` (the stream transaction
 * holding its outputs committed), `clickhouse` (the sink's insert returned: queryable). Declared
 * alike by the relay, the streams and the sink; buckets up to 2 minutes, for replays and outages.
 */
export const E2E_LATENCY = {
  name: 'shopstream_e2e_latency_seconds',
  help: 'Outbox commit of a change to a stage of the pipeline: kafka (acknowledged), streams (output committed), clickhouse (queryable)',
  labelNames: ['stage'],
  buckets: [...LATENCY_BUCKETS, 30, 60, 120],
} as const;
