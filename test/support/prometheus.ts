import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../core/retry.js';
import { resolveStackOptions, type StackOptions } from '../../stack/options.js';
import { prometheusDown, prometheusUp, prometheusUrl } from '../../stack/prometheus.js';
import { freePort } from './process.js';

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  readonly url: string;
  readonly stack: StackOptions;
  /** GET an API path (`/api/v1/...`); its `data`. */
  get<T>(path: string): Promise<T>;
  /** An instant query's vector. */
  query(expr: string): Promise<PromSeries[]>;
  /** Polls `expr` until it returns at least one series (scrapes are 1 s apart, discovery takes ~5 s). */
  waitForSeries(expr: string, timeoutMs?: number): Promise<PromSeries[]>;
  stop(): Promise<void>;
}

/**
 * A Prometheus of the test's own, run by the stack's code (the same binary, configuration and
 * rules as `stack up`) on a free port with a temporary folder, scraping `targets` every second.
 */
export async function startTestPrometheus(targets: string[]): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'shopstream-prometheus-'));
  const stack = resolveStackOptions({ dir, prometheusPort: await freePort(), prometheusTargets: targets, prometheusInterval: '1s', startTimeoutMs: 60_000, say: () => undefined });
  await prometheusUp(stack);
  const url = prometheusUrl(stack);
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`GET ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  const query = async (expr: string) => (await get<{ resultType: string; result: PromSeries[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
  return {
    url,
    stack,
    get,
    query,
    waitForSeries: (expr, timeoutMs = 30_000) =>
      waitFor(async () => {
        const result = await query(expr);
        return result.length > 0 ? result : undefined;
      }, { timeoutMs, intervalMs: 500, describe: `Prometheus to return series for ${expr}` }),
    stop: async () => {
      await prometheusDown(stack);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
