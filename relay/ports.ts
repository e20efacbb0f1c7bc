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
  /** Rows that cannot be published as they are (a payload that does not encode, ...). */
  failed: { id: string; error: string }[];
}

/** What the relay decided for a claimed batch; the store writes it in the claim's transaction. */
export interface ClaimDecision {
  published: string[];
  /** Failed rows: parked for good, or retried no earlier than `retryInMs`. */
  failed: { id: string; error: string; park: boolean; retryInMs: number }[];
}

export interface ParkedRow {
  id: string;
  eventId: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  eventType: string;
  attempts: number;
  lastError: string | null;
  parkedAt: number;
}

export interface OutboxStats {
  /** Unpublished rows, parked ones included. */
  backlog: number;
  /** Insert time (epoch µs) of the oldest unpublished row, or null. */
  oldestUnpublishedAt: number | null;
  parked: number;
}

export interface OutboxStore {
  /**
   * Claims up to `limit` rows in id order: aggregate heads (each aggregate's earliest unpublished
   * row), not parked, not backing off, and not held by another relay (skip locked), each followed
   * by the run of its aggregate's next versions. An aggregate's other rows become claimable only
   * once its head is published, so one aggregate's events leave in order however many relays run
   * (`decide` must not publish an aggregate's later rows after one of its rows failed). `decide`
   * runs while the rows are held; its decision is written in the same transaction. Returns how
   * many rows were claimed.
   */
  claim(limit: number, decide: (rows: OutboxRow[]) => Promise<ClaimDecision>): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** Deletes up to `limit` rows published more than `retentionMs` ago; returns how many. */
  purgePublished(retentionMs: number, limit: number): Promise<number>;
  listParked(limit: number): Promise<ParkedRow[]>;
  /** Re-queues a parked (or backing-off) row: its attempts start over. False when no such unpublished row. */
  requeue(id: string): Promise<boolean>;
}

export interface EventPublisher {
  /**
   * Publishes rows; resolves once every sent row is acknowledged. A row that cannot be encoded
   * is `failed` and not sent. Infrastructure failures (Kafka, the registry) reject the whole
   * call with a retriable error: nothing is marked and the batch is claimed again later.
   */
  publish(rows: OutboxRow[]): Promise<PublishOutcome>;
  close(): Promise<void>;
}
