import { formatInterval, type VariableValue } from './macros.js';

/**
 * What Grafana does to a Prometheus panel's `expr` before sending it: dashboard variables in the
 * Prometheus datasource's format (a value regex-escaped, several as `(a|b)`, All as its
 * allValue), and the global `$__interval`, `$__interval_ms`, `$__range` and `$__rate_interval`
 * (max(interval + scrape interval, 4 × scrape interval), the scrape interval being the
 * datasource's `timeInterval`).
 */
export interface PromQLContext {
  from: number;
  to: number;
  intervalMs: number;
  scrapeIntervalMs: number;
  variables?: Readonly<Record<string, VariableValue>>;
}

const escape = (value: string) => value.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&');

export function expandPrometheusQuery(expr: string, context: PromQLContext): string {
  const rangeSeconds = Math.round((context.to - context.from) / 1000);
  const globals: Record<string, string> = {
    __interval: formatInterval(context.intervalMs),
    __interval_ms: String(context.intervalMs),
    __range: `${rangeSeconds}s`,
    __range_s: String(rangeSeconds),
    __rate_interval: formatInterval(Math.max(context.intervalMs + context.scrapeIntervalMs, 4 * context.scrapeIntervalMs)),
  };
  return expr.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a?: string, b?: string) => {
    const name = (a ?? b)!;
    if (name in globals) return globals[name]!;
    const value = context.variables?.[name];
    if (value === undefined) return whole;
    if (typeof value === 'string') return escape(value);
    if (Array.isArray(value)) return value.length === 1 ? escape(value[0]!) : `(${value.map(escape).join('|')})`;
    const all = (value as { all: string | readonly string[] }).all;
    return typeof all === 'string' ? all : `(${all.map(escape).join('|')})`;
  });
}
