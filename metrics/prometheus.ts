import client from 'prom-client';
import type { Counter, Gauge, Histogram, InstrumentSpec, Labels, Metrics } from './metrics.js';

/**
 * Metrics on a prom-client Registry, rendered at /metrics. Instruments are idempotent by name:
 * asking twice for the same name returns the same instrument (components may be created twice).
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new client.Registry();
  private readonly instruments = new Map<string, unknown>();

  constructor(defaultLabels: Labels = {}) {
    this.registry.setDefaultLabels(defaultLabels as Record<string, string>);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'shopstream_process_' });
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

  private once<T>(name: string, create: () => T): T {
    if (!this.instruments.has(name)) this.instruments.set(name, create());
    return this.instruments.get(name) as T;
  }
}

function base(spec: InstrumentSpec) {
  return { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])] };
}
