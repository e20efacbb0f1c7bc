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

const noop = { inc() {}, dec() {}, set() {}, remove() {}, observe() {} };
export const noopMetrics: Metrics = { counter: () => noop, gauge: () => noop, histogram: () => noop };

/** Latency buckets in seconds, 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10] as const;
