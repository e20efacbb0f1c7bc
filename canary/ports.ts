import type { PipelineHeartbeatPayload } from './model.js';

/** A heartbeat and its emit time (its outbox row's commit time, epoch µs). */
export interface Heartbeat {
  id: string;
  emittedAt: number;
}

/**
 * Where heartbeats are written and what was emitted is kept: MySQL, so that a watcher in another
 * process (the analytics side of the distributed stack) knows what to expect.
 */
export interface HeartbeatLog {
  /**
   * Writes the heartbeat's outbox row (aggregate `canary`, its id, version 1, PipelineHeartbeat)
   * and its heartbeat row, with the outbox row's commit time, in one transaction.
   */
  append(heartbeat: PipelineHeartbeatPayload): Promise<void>;
  /** Heartbeats of every emitter emitted at or after `since` (epoch µs). */
  emittedSince(since: number): Promise<Heartbeat[]>;
  /** Deletes up to `limit` heartbeat rows emitted more than `retentionMs` ago; returns how many. */
  purge(retentionMs: number, limit: number): Promise<number>;
}

/** Where heartbeats arrive at the end of the pipeline: the analytics store (ClickHouse). */
export interface CanaryArrivals {
  /** Heartbeats queryable in the analytics store that were emitted at or after `since` (epoch µs). */
  arrivedSince(since: number): Promise<Heartbeat[]>;
}
