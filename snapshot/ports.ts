import type { DomainEvent } from '../orders/events.js';
import type { Inventory, Order, Payment, Product, User } from '../orders/model.js';

/** What a snapshot publishes, in this order: the names an order is enriched with come first. */
export const SNAPSHOT_ENTITIES = ['users', 'products', 'inventory', 'orders'] as const;
export type SnapshotEntity = (typeof SNAPSHOT_ENTITIES)[number];

/** The rows of each entity as a chunk reads them (an order with its items and its payment). */
export interface SnapshotRowOf {
  users: User;
  products: Product;
  inventory: Inventory;
  orders: { order: Order; payment: Payment | undefined };
}

/** One entity's bounds, frozen when a run is created: rows with keys up to `upTo` (primary-key order). */
export interface EntityPlan {
  entity: SnapshotEntity;
  /** Rows with keys ≤ upTo when the plan was made. */
  rows: number;
  /** The highest key then; null when the table was empty (nothing to do). */
  upTo: string | null;
  chunks: number;
  /** Events those rows make: one per row, and for orders one more per captured payment. */
  events: number;
}

export interface SnapshotPlan {
  entities: EntityPlan[];
  chunkSize: number;
}

/** How far a run got with one entity: everything with a key ≤ lastKey has been written to the outbox. */
export interface EntityProgress {
  entity: SnapshotEntity;
  lastKey: string | null;
  rows: number;
  events: number;
  chunks: number;
  done: boolean;
}

export interface SnapshotRun {
  id: number;
  plan: SnapshotPlan;
  /** Epoch µs. */
  startedAt: number;
  finishedAt: number | null;
  progress: EntityProgress[];
}

/**
 * Where a snapshot reads rows and writes their events (mysql/snapshot-store.ts): the outbox of
 * the same database, so the relay publishes them like any other event.
 */
export interface SnapshotStore {
  /** The bounds a run started now would have: each entity's row count and highest key. */
  measure(entities: readonly SnapshotEntity[], chunkSize: number): Promise<SnapshotPlan>;
  /** Records a new run with `plan` frozen; fails SNAPSHOT_UNFINISHED while another run is unfinished. */
  create(plan: SnapshotPlan): Promise<SnapshotRun>;
  /** The unfinished run if there is one, else the latest finished one, else undefined. */
  latest(): Promise<SnapshotRun | undefined>;
  /**
   * One chunk of `entity`, in one transaction: locks the run's checkpoint, then reads the next
   * `limit` rows after it (keys ≤ the plan's upTo) with a locking read, writes `toEvents(rows)`
   * to the outbox and moves the checkpoint past them (`toEvents` runs inside the transaction,
   * while the rows are locked). Commits whole or not at all: a run killed
   * at any point resumes after its last committed chunk, and two processes working on one run
   * take turns on the checkpoint's lock (neither writes a chunk twice). A chunk that finds no
   * rows marks the entity done. Deadlocks are retried.
   *
   * The locking read is what orders a snapshot against concurrent writes: a write of one of the
   * rows either committed before the read (the snapshot carries it) or waits for the chunk's
   * commit, so its own outbox row comes after the snapshot's.
   */
  chunk<E extends SnapshotEntity>(runId: number, entity: E, limit: number, toEvents: (rows: SnapshotRowOf[E][]) => DomainEvent[] | Promise<DomainEvent[]>): Promise<EntityProgress>;
  /** Marks the run finished (all its entities done). */
  finish(runId: number): Promise<SnapshotRun>;
}
