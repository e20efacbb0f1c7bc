import type { ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsHealth, AnalyticsReader, DailySales } from '../api/ports.js';
import { averageMoney, normalizeMoney } from '../orders/money.js';
import { sqlTimeToMicros } from '../core/time.js';
import { assertIdentifier } from './client.js';

/** Analytics queries (SPEC §6 definitions) on the aggregates; values only through query_params. */
export class ClickHouseAnalytics implements AnalyticsReader {
  private readonly db: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database);
  }

  async dailySales(from: string, to: string): Promise<DailySales[]> {
    const rows = await this.rows<{ day: string; orders: string; revenue: string }>(
      `SELECT day, sum(orders) AS orders, sum(revenue) AS revenue
       FROM ${this.db}.daily_sales
       WHERE day BETWEEN {from:Date} AND {to:Date}
       GROUP BY day HAVING orders != 0
       ORDER BY day`,
      { from, to },
    );
    return rows.map((row) => {
      const revenue = normalizeMoney(row.revenue);
      return { date: row.day, orders: Number(row.orders), revenue, avgOrderValue: averageMoney(revenue, BigInt(row.orders)) };
    });
  }

  async health(): Promise<AnalyticsHealth> {
    const [row] = await this.rows<{ newest: string | null }>(
      `SELECT if(count() = 0, NULL, toString(max(committed_at))) AS newest FROM ${this.db}.order_changes`,
      {},
    );
    return { reachable: true, newestAppliedAt: row?.newest ? sqlTimeToMicros(row.newest) : null };
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const result = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return result.json<T>();
  }
}
