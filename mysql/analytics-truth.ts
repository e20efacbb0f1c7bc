import type { Pool, RowDataPacket } from 'mysql2/promise';
import sql, { type Sql } from 'sql-template-tag';
import type { AnalyticsReader, DailySales, DateRange, HourlySales, PaymentMethodSales, ProductSales, SalesStats, StatusSales, UserSales } from '../analytics/read-model.js';
import { microsToIso, sqlTimeToMicros } from '../core/time.js';
import { averageMoney, normalizeMoney } from '../orders/money.js';

/** A counted order (SPEC §6): not deleted, status neither CANCELLED nor REFUNDED. */
const COUNTED = sql`o.deleted_at IS NULL AND o.status NOT IN ('CANCELLED', 'REFUNDED')`;
const money = (value: string | null | undefined) => normalizeMoney(value ?? '0');

/**
 * The SPEC §6 aggregates computed straight from the OLTP tables: the truth ClickHouse is
 * reconciled against (`shopstream reconcile`, the pipeline tests). Slow on big data by design.
 */
export class MysqlAnalyticsTruth implements AnalyticsReader {
  constructor(private readonly pool: Pool) {}

  async dailySales(from: string, to: string): Promise<DailySales[]> {
    const rows = await this.rows(
      sql`SELECT DATE_FORMAT(o.created_at, '%Y-%m-%d') AS day, COUNT(*) AS orders, SUM(o.total_amount) AS revenue FROM orders o
          WHERE ${COUNTED} AND o.created_at >= ${`${from} 00:00:00`} AND o.created_at < DATE_ADD(${to}, INTERVAL 1 DAY)
          GROUP BY day ORDER BY day`,
    );
    return rows.map((row) => ({ date: row.day, orders: Number(row.orders), revenue: money(row.revenue), avgOrderValue: averageMoney(money(row.revenue), Number(row.orders)) }));
  }

  async hourlySales(date: string): Promise<HourlySales[]> {
    const rows = await this.rows(
      sql`SELECT HOUR(o.created_at) AS hour, COUNT(*) AS orders, SUM(o.total_amount) AS revenue FROM orders o
          WHERE ${COUNTED} AND o.created_at >= ${`${date} 00:00:00`} AND o.created_at < DATE_ADD(${date}, INTERVAL 1 DAY)
          GROUP BY hour ORDER BY hour`,
    );
    return rows.map((row) => ({ hour: Number(row.hour), orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async orderStatus(): Promise<StatusSales[]> {
    const rows = await this.rows(sql`SELECT o.status, COUNT(*) AS orders, SUM(o.total_amount) AS revenue FROM orders o WHERE o.deleted_at IS NULL GROUP BY o.status ORDER BY o.status`);
    return rows.map((row) => ({ status: row.status, orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async topProducts(from: string, to: string, limit: number): Promise<ProductSales[]> {
    const rows = await this.rows(
      sql`SELECT i.product_id, p.name, SUM(i.quantity) AS units, SUM(i.line_total) AS revenue
          FROM order_items i JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id
          WHERE ${COUNTED} AND o.created_at >= ${`${from} 00:00:00`} AND o.created_at < DATE_ADD(${to}, INTERVAL 1 DAY)
          GROUP BY i.product_id, p.name ORDER BY revenue DESC, i.product_id LIMIT ${limit}`,
    );
    return rows.map((row) => ({ productId: row.product_id, name: row.name, units: Number(row.units), revenue: money(row.revenue) }));
  }

  async paymentMethods(): Promise<PaymentMethodSales[]> {
    const rows = await this.rows(
      sql`SELECT p.method, COUNT(*) AS orders, SUM(o.total_amount) AS revenue FROM orders o JOIN payments p ON p.order_id = o.id
          WHERE ${COUNTED} GROUP BY p.method ORDER BY p.method`,
    );
    return rows.map((row) => ({ method: row.method, orders: Number(row.orders), revenue: money(row.revenue) }));
  }

  async stats(range?: DateRange): Promise<SalesStats> {
    const created = range ? sql`AND o.created_at >= ${`${range.from} 00:00:00`} AND o.created_at < DATE_ADD(${range.to}, INTERVAL 1 DAY)` : sql``;
    const [row] = await this.rows(sql`SELECT COUNT(*) AS orders, SUM(o.total_amount) AS revenue, COUNT(DISTINCT o.user_id) AS customers FROM orders o WHERE ${COUNTED} ${created}`);
    const revenue = money(row?.revenue);
    return { orders: Number(row?.orders ?? 0), revenue, avgOrderValue: averageMoney(revenue, Number(row?.orders ?? 0)), customers: Number(row?.customers ?? 0) };
  }

  async userSales(userId: string): Promise<UserSales> {
    const [row] = await this.rows(
      sql`SELECT COUNT(*) AS orders, SUM(o.total_amount) AS revenue, MIN(o.created_at) AS first, MAX(o.created_at) AS last
          FROM orders o WHERE ${COUNTED} AND o.user_id = ${userId}`,
    );
    return {
      orders: Number(row?.orders ?? 0),
      revenue: money(row?.revenue),
      firstOrderAt: row?.first ? microsToIso(sqlTimeToMicros(row.first)) : null,
      lastOrderAt: row?.last ? microsToIso(sqlTimeToMicros(row.last)) : null,
    };
  }

  private async rows(query: Sql): Promise<RowDataPacket[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(query.sql, query.values);
    return rows;
  }
}

/**
 * What a reconciliation compares: the UTC days from the first to the last order (today when there
 * are none) and the first `users` users by id.
 */
export async function reconcileScope(pool: Pool, users: number): Promise<{ from: string; to: string; users: string[] }> {
  const [[range]] = (await pool.query(
    "SELECT DATE_FORMAT(MIN(created_at), '%Y-%m-%d') AS first, DATE_FORMAT(MAX(created_at), '%Y-%m-%d') AS last FROM orders",
  )) as unknown as [[{ first: string | null; last: string | null }]];
  const [rows] = (await pool.query('SELECT id FROM users ORDER BY id LIMIT ?', [users])) as unknown as [{ id: string }[]];
  const today = new Date().toISOString().slice(0, 10);
  return { from: range?.first ?? today, to: range?.last ?? today, users: rows.map((u) => u.id) };
}
