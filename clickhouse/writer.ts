import type { ClickHouseClient } from '@clickhouse/client';
import type { OrderChange, OrderEnriched } from '../orders/records.js';
import type { AnalyticsWriter } from '../sink/ports.js';
import { microsToSqlTime } from '../core/time.js';
import { assertIdentifier } from './client.js';

/**
 * Inserts analytics records as JSONEachRow with insert deduplication: the token is checked by the
 * target table and, with deduplicate_blocks_in_dependent_materialized_views, by every view it
 * feeds, so a repeated batch leaves the aggregates unchanged.
 */
export class ClickHouseAnalyticsWriter implements AnalyticsWriter {
  private readonly db: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database);
  }

  async writeOrders(records: OrderEnriched[], dedupToken: string): Promise<void> {
    await this.insert(
      'orders',
      records.map((r) => ({
        order_id: r.orderId,
        version: r.version,
        is_deleted: r.isDeleted ? 1 : 0,
        user_id: r.userId,
        user_name: r.userName,
        status: r.status,
        total_amount: r.totalAmount,
        currency: r.currency,
        item_count: r.itemCount,
        payment_method: r.paymentMethod,
        payment_status: r.paymentStatus,
        created_at: microsToSqlTime(r.createdAt),
        updated_at: microsToSqlTime(r.updatedAt),
        committed_at: microsToSqlTime(r.committedAt),
      })),
      dedupToken,
    );
  }

  async writeChanges(records: OrderChange[], dedupToken: string): Promise<void> {
    await this.insert(
      'order_changes',
      records.map((r) => ({
        order_id: r.orderId,
        version: r.version,
        sign: r.sign,
        counted: r.counted ? 1 : 0,
        is_deleted: r.isDeleted ? 1 : 0,
        user_id: r.userId,
        status: r.status,
        total_amount: r.totalAmount,
        currency: r.currency,
        payment_method: r.paymentMethod,
        created_at: microsToSqlTime(r.createdAt),
        item_product_ids: r.items.map((item) => item.productId),
        item_quantities: r.items.map((item) => item.quantity),
        item_line_totals: r.items.map((item) => item.lineTotal),
        committed_at: microsToSqlTime(r.committedAt),
      })),
      dedupToken,
    );
  }

  private async insert(table: string, values: Record<string, unknown>[], dedupToken: string): Promise<void> {
    if (values.length === 0) return;
    await this.client.insert({
      table: `${this.db}.${table}`,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: {
        insert_deduplicate: 1,
        insert_deduplication_token: dedupToken,
        deduplicate_blocks_in_dependent_materialized_views: 1,
      },
    });
  }
}
