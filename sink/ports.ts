import type { PipelineCanaryRecord } from '../canary/model.js';
import type { ProductUpsertedPayload } from '../orders/events.js';
import type { OrderChange, OrderEnriched } from '../orders/records.js';

/**
 * Where the sink loads the analytics records. A write with a token already written is a no-op
 * (insert deduplication), so re-sending a batch after a crash changes nothing.
 */
export interface AnalyticsWriter {
  writeOrders(records: OrderEnriched[], dedupToken: string): Promise<void>;
  writeChanges(records: OrderChange[], dedupToken: string): Promise<void>;
  /** The catalog's product states (ProductUpserted), latest version per product. */
  writeProducts(records: ProductUpsertedPayload[], dedupToken: string): Promise<void>;
  /** The canary's heartbeats as the streams processed them (pipeline_canary). */
  writeCanary(records: PipelineCanaryRecord[], dedupToken: string): Promise<void>;
}

/**
 * Where the sink records, before an insert, the offset range it is about to load. The latest
 * range of a partition is the one with the highest first offset, whatever order the records
 * arrived in (a late write of an older range changes nothing).
 */
export interface RangeLedger {
  recordRange(topic: string, partition: number, first: bigint, last: bigint): Promise<void>;
  lastRange(topic: string, partition: number): Promise<{ first: bigint; last: bigint } | undefined>;
}
