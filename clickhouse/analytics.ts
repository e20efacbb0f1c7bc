import type { ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsHealth, AnalyticsStore, DailySales, DateRange, HourlySales, PaymentMethodSales, ProductSales, SalesStats, StatusSales, UserSales } from '../analytics/read-model.js';
import { averageMoney, normalizeMoney } from '../orders/money.js';
import { microsToIso, sqlTimeToMicros } from '../core/time.js';
import { assertIdentifier } from './client.js';

const money = (value: string | null | undefined) => normalizeMoney(value ?? '0');

/**
 * Analytics queries on the aggregates (SPEC §6 definitions); values only through query_params.
 * Aggregates are sums of signed rows, so every query groups and sums (rows not yet merged by
 * SummingMergeTree add up the same) and drops keys whose sum is zero.
 */
export class ClickHouseAnalytics implements AnalyticsStore {
  private readonly db: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database);
  }

  async dailySales(from: string, to: string): Promise<DailySales[]> {
    const rows = await this.rows<{ day: string; orders: string; revenue: string }>(
      `SELECT toString(toDate(hour)) AS day, sum(orders) AS orders, sum(revenue) AS revenue FROM ${this.db}.hourly_sales
       WHERE toDate(hour) BETWEEN {from:Date} AND {to:Date} GROUP BY day HAVING orders != 0 ORDER BY day`,
      { from, to },
    );
    return rows.map((row) => ({ date: row.day, orders: Number(row.orders), revenue: money(row.revenue), avgOrderValue: averageMoney(money(row.revenue), BigInt(row.orders)) }));
  }

  async hourlySales(date: string): Promise<HourlySales[]> {
    // (The alias must not be `hour`: ClickHouse aliases are visible in WHERE.)
    const rows = await this.rows<{ h: number; orders: string; revenue: string }>(
      `SELECT toHour(hour) AS h, sum(orders) AS orders, sum(revenue) AS revenue FROM ${this.db}.hourly_sales
       WHERE toDate(hour) = {date:Date} GROUP BY h HAVING orders != 0 ORDER BY h`,
      { date },
    );
    return rows.map((row) => ({ hour: Number(row.h), orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async orderStatus(): Promise<StatusSales[]> {
    const rows = await this.rows<{ status: string; orders: string; revenue: string }>(
      `SELECT key AS status, sum(orders) AS orders, sum(revenue) AS revenue FROM ${this.db}.dimension_sales
       WHERE dimension = 'status' GROUP BY status HAVING orders != 0 ORDER BY status`,
      {},
    );
    return rows.map((row) => ({ status: row.status, orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async topProducts(from: string, to: string, limit: number): Promise<ProductSales[]> {
    const rows = await this.rows<{ product_id: string; name: string; units: string; revenue: string }>(
      // The catalog's current name (products); the name the sales were enriched with only for a
      // product the catalog mirror does not hold (yet).
      `SELECT toString(s.product_id) AS product_id, if(c.name != '', c.name, s.name) AS name, s.units AS units, s.revenue AS revenue
       FROM (SELECT product_id, anyLast(product_name) AS name, sum(units) AS units, sum(revenue) AS revenue
             FROM ${this.db}.product_sales WHERE day BETWEEN {from:Date} AND {to:Date}
             GROUP BY product_id HAVING units != 0) AS s
       LEFT JOIN (SELECT productId, argMax(name, version) AS name FROM ${this.db}.products GROUP BY productId) AS c ON c.productId = s.product_id
       ORDER BY revenue DESC, product_id LIMIT {limit:UInt32}`,
      { from, to, limit },
    );
    return rows.map((row) => ({ productId: row.product_id, name: row.name, units: Number(row.units), revenue: money(row.revenue) }));
  }

  async paymentMethods(): Promise<PaymentMethodSales[]> {
    const rows = await this.rows<{ method: string; orders: string; revenue: string }>(
      `SELECT key AS method, sum(orders) AS orders, sum(revenue) AS revenue FROM ${this.db}.dimension_sales
       WHERE dimension = 'payment_method' GROUP BY method HAVING orders != 0 ORDER BY method`,
      {},
    );
    return rows.map((row) => ({ method: row.method, orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async stats(range?: DateRange): Promise<SalesStats> {
    const [row] = await this.rows<{ orders: string; revenue: string; customers: string }>(
      range
        ? // Customers of a range: users whose counted orders created in it outnumber their
          // retractions (the signed changes, as the 'user' dimension counts them, by creation day).
          `SELECT (SELECT sum(orders) FROM ${this.db}.hourly_sales WHERE toDate(hour) BETWEEN {from:Date} AND {to:Date}) AS orders,
                  (SELECT sum(revenue) FROM ${this.db}.hourly_sales WHERE toDate(hour) BETWEEN {from:Date} AND {to:Date}) AS revenue,
                  (SELECT count() FROM (SELECT user_id FROM ${this.db}.order_changes
                                        WHERE counted = 1 AND toDate(created_at, 'UTC') BETWEEN {from:Date} AND {to:Date}
                                        GROUP BY user_id HAVING sum(sign) > 0)) AS customers`
        : `SELECT (SELECT sum(orders) FROM ${this.db}.hourly_sales) AS orders,
                  (SELECT sum(revenue) FROM ${this.db}.hourly_sales) AS revenue,
                  (SELECT count() FROM (SELECT key FROM ${this.db}.dimension_sales WHERE dimension = 'user' GROUP BY key HAVING sum(orders) > 0)) AS customers`,
      range ? { from: range.from, to: range.to } : {},
    );
    const revenue = money(row?.revenue);
    const orders = Number(row?.orders ?? 0);
    return { orders, revenue, avgOrderValue: averageMoney(revenue, orders), customers: Number(row?.customers ?? 0) };
  }

  async newestChange(): Promise<number | null> {
    const [row] = await this.rows<{ newest: string | null }>(
      `SELECT if(count() = 0, NULL, toString(toUnixTimestamp64Micro(max(newest_committed_at)))) AS newest FROM ${this.db}.hourly_sales`,
      {},
    );
    return row?.newest ? Number(row.newest) : null;
  }

  async userSales(userId: string): Promise<UserSales> {
    const [sums] = await this.rows<{ orders: string; revenue: string }>(
      `SELECT sum(orders) AS orders, sum(revenue) AS revenue FROM ${this.db}.dimension_sales WHERE dimension = 'user' AND key = {user:String}`,
      { user: userId },
    );
    const [range] = await this.rows<{ first: string | null; last: string | null }>(
      `SELECT if(count() = 0, NULL, toString(min(created_at))) AS first, if(count() = 0, NULL, toString(max(created_at))) AS last
       FROM ${this.db}.orders FINAL
       WHERE user_id = {user:UUID} AND is_deleted = 0 AND status NOT IN ('CANCELLED', 'REFUNDED')`,
      { user: userId },
    );
    return {
      orders: Number(sums?.orders ?? 0),
      revenue: money(sums?.revenue),
      firstOrderAt: range?.first ? microsToIso(sqlTimeToMicros(range.first)) : null,
      lastOrderAt: range?.last ? microsToIso(sqlTimeToMicros(range.last)) : null,
    };
  }

  async health(): Promise<AnalyticsHealth> {
    const [row] = await this.rows<{ newest: string | null }>(
      `SELECT if(count() = 0, NULL, toString(toUnixTimestamp64Micro(max(emitted_at)))) AS newest FROM ${this.db}.pipeline_canary`,
      {},
    );
    return { reachable: true, newestHeartbeatAt: row?.newest ? Number(row.newest) : null };
  }

  private async rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const result = await this.client.query({ query, query_params, format: 'JSONEachRow' });
    return result.json<T>();
  }
}
