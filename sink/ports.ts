import type { OrderChange, OrderEnriched } from '../orders/records.js';

/**
 * Where the sink loads the analytics records. A write with a token already written is a no-op
 * (insert deduplication), so re-sending a batch after a crash changes nothing.
 */
export interface AnalyticsWriter {
  writeOrders(records: OrderEnriched[], dedupToken: string): Promise<void>;
  writeChanges(records: OrderChange[], dedupToken: string): Promise<void>;
}
