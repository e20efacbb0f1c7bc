import type { ClickHouseClient } from '@clickhouse/client';
import type { PipelineCanaryRecord } from '../canary/model.js';
import type { ProductUpsertedPayload } from '../orders/events.js';
import type { OrderChange, OrderEnriched } from '../orders/records.js';
import type { AnalyticsWriter, RangeLedger } from '../sink/ports.js';
import { microsToSqlTime } from '../core/time.js';
import { assertIdentifier } from './client.js';
import { classifyClickHouseError } from './errors.js';

/**
 * Inserts analytics records as JSONEachRow with insert deduplication: the token is checked by the
 * target table and, with deduplicate_blocks_in_dependent_materialized_views, by every view it
 * feeds, so a repeated batch leaves the aggregates unchanged.
 */
export class ClickHouseAnalyticsWriter implements AnalyticsWriter, RangeLedger {
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
        ...r,
        is_deleted: r.is_deleted ? 1 : 0,
        created_at: microsToSqlTime(r.created_at),
        updated_at: microsToSqlTime(r.updated_at),
        committed_at: microsToSqlTime(r.committed_at),
      })),
      dedupToken,
    );
  }

  async writeChanges(records: OrderChange[], dedupToken: string): Promise<void> {
    await this.insert(
      'order_changes',
      records.map((r) => ({
        ...r,
        counted: r.counted ? 1 : 0,
        is_deleted: r.is_deleted ? 1 : 0,
        created_at: microsToSqlTime(r.created_at),
        committed_at: microsToSqlTime(r.committed_at),
      })),
      dedupToken,
    );
  }

  async writeProducts(records: ProductUpsertedPayload[], dedupToken: string): Promise<void> {
    await this.insert('products', records.map((r) => ({ ...r, updatedAt: microsToSqlTime(r.updatedAt) })), dedupToken);
  }

  async writeCanary(records: PipelineCanaryRecord[], dedupToken: string): Promise<void> {
    await this.insert(
      'pipeline_canary',
      records.map((r) => ({ ...r, emitted_at: microsToSqlTime(r.emitted_at), processed_at: microsToSqlTime(r.processed_at) })),
      dedupToken,
    );
  }

  async recordRange(topic: string, partition: number, first: bigint, last: bigint): Promise<void> {
    try {
      await this.client.insert({ table: `${this.db}.sink_ranges`, values: [{ topic, partition, first: String(first), last: String(last) }], format: 'JSONEachRow' });
    } catch (error) {
      throw classifyClickHouseError(error, `record range ${topic}-${partition}-${first}-${last}`);
    }
  }

  async lastRange(topic: string, partition: number): Promise<{ first: bigint; last: bigint } | undefined> {
    try {
      const result = await this.client.query({
        // The offsets are read as strings under names of their own: an alias `first` would take
        // the column's place in ORDER BY and sort the offsets as text ('7' after '39').
        query: `SELECT toString(first) AS first_offset, toString(last) AS last_offset FROM ${this.db}.sink_ranges
                WHERE topic = {topic:String} AND partition = {partition:UInt32} ORDER BY first DESC, recorded_at DESC LIMIT 1`,
        query_params: { topic, partition },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ first_offset: string; last_offset: string }>();
      return row && { first: BigInt(row.first_offset), last: BigInt(row.last_offset) };
    } catch (error) {
      throw classifyClickHouseError(error, `read the recorded range of ${topic}-${partition}`);
    }
  }

  /** Failures are a retriable DependencyError('clickhouse') or a ClickHouseRejectedError. */
  private async insert(table: string, values: Record<string, unknown>[], dedupToken: string): Promise<void> {
    if (values.length === 0) return;
    try {
      await this.client.insert({
        table: `${this.db}.${table}`,
        values,
        format: 'JSONEachRow',
        clickhouse_settings: {
          insert_deduplicate: 1,
          insert_deduplication_token: dedupToken,
          deduplicate_blocks_in_dependent_materialized_views: 1,
          // The aggregates' views are filled side by side (halves an insert's time here).
          parallel_view_processing: 1,
        },
      });
    } catch (error) {
      throw classifyClickHouseError(error, `insert into ${table} (token ${dedupToken})`);
    }
  }
}
