import type { AggregateType } from '../orders/events.js';

/** One committed, unpublished outbox row. */
export interface OutboxRow {
  id: string;
  eventId: string;
  aggregateType: AggregateType;
  aggregateId: string;
  aggregateVersion: number;
  eventType: string;
  payload: unknown;
  /** Outbox insert time, epoch microseconds (sent as the `committed_at` header). */
  createdAt: number;
  attempts: number;
}

export interface PublishOutcome {
  /** Rows Kafka acknowledged. */
  published: string[];
  /** Rows that could not be published, with why. */
  failed: { id: string; error: string }[];
}

export interface OutboxStore {
  /**
   * Claims up to `limit` unpublished rows in id order, skipping rows another relay holds, and
   * runs `publish` while holding them. Rows in `published` are marked published; rows in
   * `failed` get their attempt counted and error recorded; both in the claim's transaction.
   * Returns how many rows were claimed.
   */
  claim(limit: number, publish: (rows: OutboxRow[]) => Promise<PublishOutcome>): Promise<number>;
}

export interface EventPublisher {
  /**
   * Publishes rows in order; resolves once every sent row is acknowledged. A row that cannot be
   * sent is `failed`; the later rows of its aggregate are not sent at all (in neither list), so
   * they stay unpublished behind it.
   */
  publish(rows: OutboxRow[]): Promise<PublishOutcome>;
  close(): Promise<void>;
}
