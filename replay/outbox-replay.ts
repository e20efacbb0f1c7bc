import { ShopstreamError } from '../core/errors.js';
import type { EventPublisher, OutboxRow } from '../relay/ports.js';

/** Which retained outbox rows to publish again: an id range or a commit-time range (µs), inclusive. */
export type OutboxSelection = { fromId: bigint; toId: bigint } | { fromMicros: number; toMicros: number };

/** Outbox rows already published and still retained (the relay purges them after its retention). */
export interface RetainedOutbox {
  count(selection: OutboxSelection): Promise<{ rows: number; firstId: string | null; lastId: string | null }>;
  /** Up to `limit` rows of the selection with ids above `afterId`, in id order. */
  read(selection: OutboxSelection, afterId: bigint, limit: number): Promise<OutboxRow[]>;
}

/**
 * Publishes retained outbox rows again, in id order (so in version order per aggregate), with
 * their original event_id and commit time: downstream sees repeats it already drops (an order
 * version the streams hold is not applied twice). Nothing in MySQL changes. A row that cannot be
 * encoded (its schema changed since) stops the replay with its id.
 */
export async function republishOutbox(
  outbox: RetainedOutbox,
  publisher: EventPublisher,
  selection: OutboxSelection,
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ published: number }> {
  const { rows: total } = await outbox.count(selection);
  const batchSize = options.batchSize ?? 1_000;
  let after = -1n;
  let published = 0;
  for (;;) {
    const rows = await outbox.read(selection, after, batchSize);
    if (rows.length === 0) break;
    const outcome = await publisher.publish(rows);
    if (outcome.failed.length > 0) {
      throw new ShopstreamError('REPLAY_OUTBOX_UNENCODABLE', `outbox row ${outcome.failed[0]!.id} cannot be published again: ${outcome.failed[0]!.error}`);
    }
    published += outcome.published.length;
    after = BigInt(rows[rows.length - 1]!.id);
    options.onProgress?.(published, total);
  }
  return { published };
}
