import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import { ClickHouseAnalytics } from '../../clickhouse/analytics.js';
import { MysqlAnalyticsTruth } from '../../mysql/analytics-truth.js';
import { reconcile, type Drift } from '../../reconcile/reconcile.js';

/** Drift of every aggregate against MySQL over the workload's days and users. */
export async function driftOf(pool: Pool, clickhouse: ClickHouseClient, database: string, users: string[], days: number): Promise<Drift[]> {
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - (days + 1) * 86_400_000).toISOString().slice(0, 10);
  return reconcile(new MysqlAnalyticsTruth(pool), new ClickHouseAnalytics(clickhouse, database), { from, to, users });
}

/** Non-deleted orders, as MySQL has them and as `orders FINAL` has them, sorted by id. */
export async function finalOrders(pool: Pool, clickhouse: ClickHouseClient, database: string) {
  const [mysqlRows] = (await pool.query(
    `SELECT o.id, o.version, o.status, o.total_amount AS total, o.user_id, COALESCE(p.method, '') AS method
     FROM orders o LEFT JOIN payments p ON p.order_id = o.id WHERE o.deleted_at IS NULL ORDER BY o.id`,
  )) as unknown as [{ id: string; version: number; status: string; total: string; user_id: string; method: string }[]];
  const result = await clickhouse.query({
    query: `SELECT toString(order_id) AS id, version, status, toString(total_amount) AS total, toString(user_id) AS user_id, toString(payment_method) AS method
            FROM ${database}.orders FINAL ORDER BY id`,
    format: 'JSONEachRow',
  });
  const clickhouseRows = (await result.json<{ id: string; version: string; status: string; total: string; user_id: string; method: string }>()).map((row) => ({
    ...row,
    version: Number(row.version),
    total: Number(row.total).toFixed(2),
  }));
  return { mysql: mysqlRows.map((row) => ({ ...row, version: Number(row.version) })), clickhouse: clickhouseRows };
}
