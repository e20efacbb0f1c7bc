import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import client from 'prom-client';
import type { Counter, Gauge, Histogram, InstrumentSpec, Labels, Metrics, MetricSample, MetricsReader } from './metrics.js';

/**
 * Metrics on a prom-client Registry, rendered at /metrics. Instruments are idempotent by name:
 * asking twice for the same name returns the same instrument (components may be created twice).
 *
 * Every registry also carries the process metrics: prom-client's default metrics under the
 * `shopstream_` prefix (shopstream_process_cpu_seconds_total, shopstream_nodejs_eventloop_lag_seconds,
 * heap, GC, handles…) and `shopstream_event_loop_delay_seconds{quantile}`: the event loop's delay
 * (perf_hooks monitorEventLoopDelay, 10 ms resolution) since the previous scrape, as quantiles 0.5,
 * 0.9 and 0.99 and the maximum (quantile "1"); 0 when nothing was sampled.
 */
export class PrometheusMetrics implements Metrics, MetricsReader {
  readonly registry = new client.Registry();
  private readonly instruments = new Map<string, unknown>();

  constructor(defaultLabels: Labels = {}) {
    this.registry.setDefaultLabels(defaultLabels as Record<string, string>);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'shopstream_' });
    const delay = eventLoopDelay();
    const gauge = this.gauge({
      name: 'shopstream_event_loop_delay_seconds',
      help: 'Event loop delay since the previous scrape (perf_hooks monitorEventLoopDelay): quantiles 0.5, 0.9, 0.99 and the maximum (1)',
      labelNames: ['quantile'],
      collect: () => {
        const seconds = (ns: number) => (Number.isFinite(ns) && delay.count > 0 ? ns / 1e9 : 0);
        for (const q of [0.5, 0.9, 0.99]) gauge.set(seconds(delay.percentile(q * 100)), { quantile: String(q) });
        gauge.set(seconds(delay.max), { quantile: '1' });
        delay.reset();
      },
    });
  }

  counter(spec: InstrumentSpec): Counter {
    const c = this.once(spec.name, () => new client.Counter({ ...base(spec), registers: [this.registry] }));
    return { inc: (labels, value = 1) => (labels ? c.inc(labels, value) : c.inc(value)) };
  }

  gauge(spec: InstrumentSpec & { collect?: () => Promise<void> | void }): Gauge {
    const g = this.once(
      spec.name,
      () => new client.Gauge({ ...base(spec), registers: [this.registry], ...(spec.collect ? { collect: spec.collect } : {}) }),
    );
    return {
      set: (value, labels) => (labels ? g.set(labels, value) : g.set(value)),
      inc: (labels, value = 1) => (labels ? g.inc(labels, value) : g.inc(value)),
      dec: (labels, value = 1) => (labels ? g.dec(labels, value) : g.dec(value)),
      remove: (labels) => g.remove(labels as Record<string, string>),
    };
  }

  histogram(spec: InstrumentSpec & { buckets: readonly number[] }): Histogram {
    const h = this.once(
      spec.name,
      () => new client.Histogram({ ...base(spec), buckets: [...spec.buckets], registers: [this.registry] }),
    );
    return { observe: (value, labels) => (labels ? h.observe(labels, value) : h.observe(value)) };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The named instruments' samples, as `render` would show them (only those instruments' collect
   * callbacks run: reading does not reset what is measured "since the previous scrape").
   */
  async read(names: readonly string[]): Promise<Map<string, MetricSample[]>> {
    const result = new Map<string, MetricSample[]>();
    for (const name of names) {
      const metric = this.registry.getSingleMetric(name);
      if (!metric) continue;
      const { values } = await metric.get();
      result.set(
        name,
        values.map((v) => ({ name: (v as { metricName?: string }).metricName ?? name, labels: { ...(v.labels as Labels) }, value: v.value })),
      );
    }
    return result;
  }

  private once<T>(name: string, create: () => T): T {
    if (!this.instruments.has(name)) this.instruments.set(name, create());
    return this.instruments.get(name) as T;
  }
}

let monitor: IntervalHistogram | undefined;
/** One monitor per process (its timer does not keep the process alive). */
function eventLoopDelay(): IntervalHistogram {
  if (!monitor) {
    monitor = monitorEventLoopDelay({ resolution: 10 });
    monitor.enable();
  }
  return monitor;
}

function base(spec: InstrumentSpec) {
  return { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])] };
}
