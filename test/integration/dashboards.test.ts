import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { expandClickHouseQuery } from '../../grafana/src/macros.js';
import { expandPrometheusQuery } from '../../grafana/src/promql.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { committedDashboards, fieldsReadBy, panelsOf } from '../support/grafana.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { startTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf, finalOrders } from '../support/truth.js';
import { runWorkload, type WorkloadResult } from '../support/workload.js';

const DAYS = 4;
const DAY_MS = 86_400_000;
const dashboards = committedDashboards();
const sales = panelsOf(dashboards['sales.json']!);
const health = dashboards['pipeline-health.json']!;
const salesPanel = (title: string) => sales.find((p) => p.title === title)!;
const cents = (value: unknown) => Number(value).toFixed(2);

type ClickHouseResult = { meta: { name: string; type: string }[]; data: Record<string, unknown>[] };

/**
 * Every panel of the committed dashboards runs its query against a real pipeline (MariaDB →
 * relay → Kafka → streams → sink → ClickHouse, and the lag collector), as Grafana would send it:
 * ClickHouse panels after the plugin's macro expansion, on the embedded engine holding the
 * pipeline's data; Prometheus panels through the HTTP API of a Prometheus that scraped the
 * pipeline while it worked.
 */
describe('dashboard panels on a running pipeline', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink', 'monitor'], { monitor: { intervalMs: 1_000 } });
  let prometheus: TestPrometheus;
  let workload: WorkloadResult;
  let startedAt: number;

  beforeAll(async () => {
    prometheus = await startTestPrometheus([new URL(isolated.pipeline.url!).host]);
    startedAt = Date.now();
    const deps = { store: mysqlOrderStore(isolated.pipeline.pool!), signal: isolated.pipeline.relay };
    workload = await runWorkload(deps, { operations: 800, seed: 20261202, days: DAYS, concurrency: 4 });
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await waitFor(
      async () => ((await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database, workload.users, DAYS)).length === 0 ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500, describe: 'the aggregates caught up (zero drift)' },
    );
    await waitFor(
      async () => {
        const rows = await finalOrders(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database);
        return JSON.stringify(rows.clickhouse) === JSON.stringify(rows.mysql) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: 'orders FINAL equal to MySQL' },
    );
  }, 400_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  /** The whole workload: its days, and a minute beyond now. */
  const everything = () => ({ from: Date.now() - (DAYS + 1) * DAY_MS, to: Date.now() + 60_000, intervalMs: 3_600_000 });

  async function run(sql: string, range: ReturnType<typeof everything>): Promise<ClickHouseResult> {
    const query = expandClickHouseQuery(sql, { ...range, variables: { database: isolated.config.clickhouse.database } });
    return (await isolated.pipeline.clickhouse!.query({ query, format: 'JSON' })).json<Record<string, unknown>>() as unknown as Promise<ClickHouseResult>;
  }
  const rows = async (title: string, range = everything()) => (await run(salesPanel(title).targets![0]!.rawSql!, range)).data;

  it('runs every ClickHouse panel: rows, with the fields the panel reads', async () => {
    const range = everything();
    for (const panel of sales) {
      for (const target of panel.targets!) {
        const result = await run(target.rawSql!, range);
        const columns = result.meta.map((m) => m.name);
        expect(result.data.length, `${panel.title} returns rows`).toBeGreaterThan(0);
        expect(columns, `${panel.title} has the fields it reads`).toEqual(expect.arrayContaining(fieldsReadBy(panel)));
        if (target.format === 0) expect(result.meta.some((m) => m.type.startsWith('DateTime')), `${panel.title}: a time column`).toBe(true);
      }
    }
  });

  it('shows the figures of the analytics API (the same SPEC definitions)', async () => {
    const api = async <T>(path: string) => (await (await fetch(`${isolated.pipeline.url}/api/analytics${path}`)).json()) as T;
    const stats = await api<{ orders: number; revenue: string; avgOrderValue: string; customers: number }>('/stats');
    expect(stats.orders).toBeGreaterThan(100);
    expect(cents((await rows('Revenue'))[0]!.revenue)).toBe(stats.revenue);
    expect(Number((await rows('Orders'))[0]!.orders)).toBe(stats.orders);
    expect(cents((await rows('Average order value'))[0]!.avg_order_value)).toBe(stats.avgOrderValue);
    expect(Number((await rows('Customers'))[0]!.customers)).toBe(stats.customers);

    const byStatus = (await rows('Status distribution')).map((r) => ({ status: r.status, orders: Number(r.orders), revenue: cents(r.revenue) }));
    expect(byStatus).toEqual(await api('/order-status'));
    const byMethod = (await rows('Payment methods')).map((r) => ({ method: r.method, orders: Number(r.orders), revenue: cents(r.revenue) }));
    const methods = await api<{ method: string }[]>('/payment-methods');
    expect(byMethod.sort((a, b) => String(a.method).localeCompare(String(b.method)))).toEqual(methods);

    const range = everything();
    const [from, to] = [range.from, range.to].map((ms) => new Date(ms).toISOString().slice(0, 10));
    const daily = (await rows('Daily revenue and orders', range)).map((r) => ({ date: String(r.time).slice(0, 10), orders: Number(r.orders), revenue: cents(r.revenue) }));
    const apiDaily = await api<{ date: string; orders: number; revenue: string }[]>(`/daily-sales?from=${from}&to=${to}`);
    expect(daily).toEqual(apiDaily.map(({ date, orders, revenue }) => ({ date, orders, revenue })));
    expect(daily.length).toBeGreaterThanOrEqual(DAYS);
    const hourly = await rows('Orders per hour', range);
    expect(hourly.reduce((sum, r) => sum + Number(r.orders), 0)).toBe(stats.orders);

    const products = (await rows('Top products', range)).map((r) => ({ productId: r.product_id, name: r.product, units: Number(r.units), revenue: cents(r.revenue) }));
    expect(products).toEqual(await api(`/top-products?from=${from}&to=${to}&limit=10`));

    const customers = await rows('Top customers', range);
    expect(customers.length).toBe(10);
    for (const customer of customers.slice(0, 3)) {
      const sales = await api<{ orders: number; revenue: string }>(`/users/${customer.user_id}`);
      expect({ orders: Number(customer.orders), revenue: cents(customer.revenue) }).toEqual({ orders: sales.orders, revenue: sales.revenue });
    }

    const [newest] = (await isolated.pipeline.pool!.query(
      'SELECT id, status, total_amount AS total FROM orders WHERE deleted_at IS NULL ORDER BY created_at DESC, id LIMIT 50',
    )) as unknown as [{ id: string; status: string; total: string }[]];
    const recent = (await rows('Recent orders', range)).map((r) => ({ id: r.order_id, status: r.status, total: cents(r.total) }));
    expect(recent).toEqual(newest);
  });

  it('limits the range-scoped panels to the selected range', async () => {
    // A range before every order: the stats read zero, the lists are empty.
    const before = { from: Date.now() - 40 * DAY_MS, to: Date.now() - 30 * DAY_MS, intervalMs: 3_600_000 };
    expect(Number((await rows('Orders', before))[0]!.orders)).toBe(0);
    expect(cents((await rows('Average order value', before))[0]!.avg_order_value)).toBe('0.00');
    for (const title of ['Daily revenue and orders', 'Orders per hour', 'Status distribution', 'Payment methods', 'Top products', 'Top customers', 'Recent orders']) {
      expect(await rows(title, before), title).toEqual([]);
    }
  });

  it('runs every Prometheus panel and variable on what Prometheus scraped: at least one series each', async () => {
    // Live traffic through the HTTP API while Prometheus keeps scraping (histograms need fresh observations).
    const users = workload.users;
    const page = (await (await fetch(`${isolated.pipeline.url}/api/products?limit=5`)).json()) as { items: { id: string }[] };
    const productIds = page.items.map((p) => p.id);
    expect(productIds.length).toBeGreaterThan(0);
    const traffic = (async () => {
      for (let i = 0; i < 100; i++) {
        const body = { userId: users[i % users.length], items: [{ productId: productIds[i % productIds.length], quantity: 1 }] };
        const response = await fetch(`${isolated.pipeline.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(response.status).toBe(201);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await traffic;
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few more scrapes

    const to = Date.now();
    const from = Math.max(startedAt, to - 10 * 60_000);
    const step = Math.max(1_000, Math.ceil((to - from) / 300 / 1000) * 1000);
    const context = { from, to, intervalMs: step, scrapeIntervalMs: 1_000, variables: allOf(health.templating.list) };
    const empty: string[] = [];
    for (const panel of panelsOf(health)) {
      for (const target of panel.targets!) {
        const expr = expandPrometheusQuery(target.expr!, context);
        const series = target.instant ? await instant(expr, to) : await range(expr, from, to, step);
        if (!series.some((values) => values.some((v) => Number.isFinite(Number(v))))) empty.push(`${panel.title} (${target.refId}): ${expr}`);
      }
    }
    for (const variable of health.templating.list.filter((v) => v.type === 'query')) {
      const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(String(variable.query))!;
      const values = await prometheus.get<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric!)}&start=${from / 1000}&end=${to / 1000}`);
      if (values.length === 0) empty.push(`variable ${variable.name}: ${variable.query}`);
    }
    expect(empty, 'panels and variables without a series').toEqual([]);
  }, 180_000);

  /** Grafana's values of the dashboard's variables with All selected. */
  function allOf(list: { name: string; type: string; allValue?: string }[]) {
    return Object.fromEntries(list.filter((v) => v.type === 'query').map((v) => [v.name, { all: v.allValue ?? '.*' }]));
  }

  async function instant(expr: string, at: number): Promise<string[][]> {
    const data = await prometheus.get<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}&time=${at / 1000}`);
    return data.result.map((s) => [s.value[1]]);
  }

  async function range(expr: string, from: number, to: number, stepMs: number): Promise<string[][]> {
    const data = await prometheus.get<{ result: { values: [number, string][] }[] }>(
      `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${from / 1000}&end=${to / 1000}&step=${stepMs / 1000}`,
    );
    return data.result.map((s) => s.values.map(([, v]) => v));
  }
});
