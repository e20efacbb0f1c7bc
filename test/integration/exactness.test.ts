import { describe, expect, it } from 'vitest';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { waitFor } from '../../core/retry.js';
import { ClickHouseAnalyticsWriter } from '../../clickhouse/writer.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf, finalOrders } from '../support/truth.js';
import { runWorkload, type WorkloadResult } from '../support/workload.js';

const DAYS = 10;

/**
 * A randomized workload through the real pipeline (MariaDB → relay → Kafka → streams → sink →
 * ClickHouse): once caught up, every aggregate equals what MySQL says (drift 0) and
 * `orders FINAL` matches MySQL row for row.
 */
describe('aggregates are exact under updates and deletes', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink']);
  let workload: WorkloadResult;

  it('has zero drift after thousands of mixed operations across days and users', async () => {
    const deps = { store: mysqlOrderStore(isolated.pipeline.pool!), signal: isolated.pipeline.relay };
    workload = await runWorkload(deps, { operations: 3_000, seed: 20261124, days: DAYS, concurrency: 8 });
    expect(workload.refused).toBeGreaterThan(0);
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    const drift = await waitFor(
      async () => {
        const found = await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database, workload.users, DAYS);
        return found.length === 0 ? found : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, describe: 'zero drift' },
    ).catch(async (error) => {
      const found = await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database, workload.users, DAYS);
      const byAggregate = new Map<string, number>();
      for (const d of found) byAggregate.set(d.aggregate.split(' ')[0]!, (byAggregate.get(d.aggregate.split(' ')[0]!) ?? 0) + 1);
      console.log(JSON.stringify({ byAggregate: Object.fromEntries(byAggregate), first: found.slice(0, 3) }, null, 2));
      throw error;
    });
    expect(drift).toEqual([]);
    // The latest states load independently of the signed changes: wait for them as well.
    const final = await waitFor(
      async () => {
        const rows = await finalOrders(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database);
        return JSON.stringify(rows.clickhouse) === JSON.stringify(rows.mysql) ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: 'orders FINAL equal to MySQL' },
    );
    expect(final.mysql.length).toBeGreaterThan(500);
    expect(final.clickhouse).toEqual(final.mysql);
  }, 300_000);

  it('the analytics API serves the same figures as MySQL', async () => {
    const stats = await (await fetch(`${isolated.pipeline.url}/api/analytics/stats`)).json();
    const [[truth]] = (await isolated.pipeline.pool!.query(
      "SELECT COUNT(*) AS orders, SUM(total_amount) AS revenue, COUNT(DISTINCT user_id) AS customers FROM orders WHERE deleted_at IS NULL AND status NOT IN ('CANCELLED','REFUNDED')",
    )) as unknown as [[{ orders: number; revenue: string; customers: number }]];
    expect(stats).toMatchObject({ orders: Number(truth!.orders), revenue: truth!.revenue, customers: Number(truth!.customers) });
    for (const path of ['/daily-sales', '/hourly-sales', '/order-status', '/top-products?limit=5', '/payment-methods', `/users/${workload.users[0]}`]) {
      const response = await fetch(`${isolated.pipeline.url}/api/analytics${path}`);
      expect(response.status, path).toBe(200);
    }
    // Freshness is the age of the newest canary heartbeat in ClickHouse: within an interval (5 s)
    // and a round trip while the pipeline keeps up.
    const health = (await (await fetch(`${isolated.pipeline.url}/api/analytics/health`)).json()) as { reachable: boolean; freshnessSeconds: number; newestHeartbeatAt: string };
    expect(health).toMatchObject({ reachable: true, freshnessSeconds: expect.any(Number), newestHeartbeatAt: expect.any(String) });
    expect(health.freshnessSeconds).toBeGreaterThan(0);
    expect(health.freshnessSeconds).toBeLessThan(10);
    expect(Date.now() - Date.parse(health.newestHeartbeatAt)).toBeCloseTo(health.freshnessSeconds * 1000, -3);
    const bad = await fetch(`${isolated.pipeline.url}/api/analytics/top-products?limit=0`);
    expect(bad.status).toBe(400);
  });

  it('inserts nothing twice when a batch is loaded again with the same offsets', async () => {
    const db = isolated.config.clickhouse.database;
    const rows = await (await isolated.pipeline.clickhouse!.query({ query: `SELECT * EXCEPT ingested_at FROM ${db}.order_changes ORDER BY order_id, version, sign LIMIT 200`, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    const before = await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, db, workload.users, DAYS);
    const count = async () => Number(((await (await isolated.pipeline.clickhouse!.query({ query: `SELECT count() AS n FROM ${db}.order_changes`, format: 'JSONEachRow' })).json()) as { n: string }[])[0]!.n);
    const total = await count();
    // The same batch twice under one token: the first lands (as a replayed range would have), the second is dropped.
    const writer = new ClickHouseAnalyticsWriter(isolated.pipeline.clickhouse!, db);
    const replay = rows.map((row) => ({ ...row, counted: row.counted === 1, is_deleted: row.is_deleted === 1, sign: Number(row.sign), created_at: Date.parse(`${row.created_at}Z`) * 1000, committed_at: Date.parse(`${row.committed_at}Z`) * 1000 }));
    await writer.writeChanges(replay as never, 'replay-test-0-0-199');
    const afterFirst = await count();
    await writer.writeChanges(replay as never, 'replay-test-0-0-199');
    expect(await count()).toBe(afterFirst);
    expect(afterFirst).toBe(total + rows.length);
    expect(before).toEqual([]);
  });
});
