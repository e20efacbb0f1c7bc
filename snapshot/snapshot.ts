import { randomUUID } from 'node:crypto';
import { retry } from '../core/retry.js';
import { systemClock } from '../orders/deps.js';
import { inventoryAdjusted, orderSnapshot, paymentCaptured, productUpserted, userRegistered, type DomainEvent } from '../orders/events.js';
import type { Clock } from '../orders/ports.js';
import { SNAPSHOT_ENTITIES, type EntityPlan, type SnapshotEntity, type SnapshotPlan, type SnapshotRowOf, type SnapshotRun, type SnapshotStore } from './ports.js';

export interface SnapshotOptions {
  /** What a new run publishes. Default: every entity (SNAPSHOT_ENTITIES). */
  entities: readonly SnapshotEntity[];
  /** Rows per chunk (one transaction each). Default 500. */
  chunkSize: number;
  /** Ids of the published events. Default randomUUID. */
  eventId: () => string;
  clock: Clock;
  /** After every chunk: the entity's rows done and its planned rows. */
  onProgress: (entity: SnapshotEntity, done: number, planned: number) => void;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = {
  entities: SNAPSHOT_ENTITIES,
  chunkSize: 500,
  eventId: randomUUID,
  clock: systemClock,
  onProgress: () => undefined,
};

/** What `run` would do now: resume `run`, or start a new run with `plan`. */
export type SnapshotPreview = { resuming: SnapshotRun; remaining: EntityPlan[] } | { resuming: undefined; plan: SnapshotPlan };

/**
 * `shopstream snapshot`: publishes the current MySQL rows (users, products, inventory, orders
 * with their items and payments) as events through the outbox, for data that predates the
 * pipeline or was written around it.
 *
 * Bounded: a run's plan (each entity's highest key and row count) is frozen when the run is
 * created; rows inserted later with higher keys are left to their own events. Resumable: chunks
 * commit with their checkpoint (SnapshotStore.chunk), so a run killed at any point goes on where
 * it stopped when `run` is called again, and ends with the same events as an uninterrupted one.
 * Idempotent downstream: every event carries the row's version, and a consumer that holds that
 * version already ignores it (an order's OrderSnapshot, the users/products/payments tables'
 * upserts), so running it twice changes no aggregate. Safe while the API writes: see
 * SnapshotStore.chunk for how a concurrent change is ordered against the snapshot's read.
 */
export class Snapshot {
  private readonly options: SnapshotOptions;

  constructor(
    private readonly store: SnapshotStore,
    options: Partial<SnapshotOptions> = {},
  ) {
    this.options = { ...DEFAULT_SNAPSHOT_OPTIONS, ...options };
  }

  /** What `run` would do, changing nothing (`--dry-run`). */
  async preview(): Promise<SnapshotPreview> {
    const latest = await this.store.latest();
    if (latest && latest.finishedAt === null) {
      const done = new Map(latest.progress.map((p) => [p.entity, p]));
      return { resuming: latest, remaining: latest.plan.entities.filter((e) => !done.get(e.entity)?.done) };
    }
    return { resuming: undefined, plan: await this.store.measure(this.options.entities, this.options.chunkSize) };
  }

  /** The unfinished run, else the latest one. */
  latest(): Promise<SnapshotRun | undefined> {
    return this.store.latest();
  }

  /** Resumes the unfinished run, or creates one with a frozen plan, and runs it to its end. */
  async run(onStart: (run: SnapshotRun, resumed: boolean) => void = () => undefined): Promise<SnapshotRun> {
    const latest = await this.store.latest();
    const resumed = latest !== undefined && latest.finishedAt === null;
    const run = resumed ? latest : await this.store.create(await this.store.measure(this.options.entities, this.options.chunkSize));
    onStart(run, resumed);
    for (const plan of run.plan.entities) {
      let progress = run.progress.find((p) => p.entity === plan.entity);
      if (progress) this.options.onProgress(plan.entity, progress.rows, plan.rows);
      while (!progress?.done) {
        // A chunk commits with its checkpoint, so one that failed (even in its COMMIT) can simply run again.
        progress = await retry(() => this.store.chunk(run.id, plan.entity, run.plan.chunkSize, (rows) => this.eventsOf(plan.entity, rows)), { attempts: 5, initialDelayMs: 200 });
        this.options.onProgress(plan.entity, progress.rows, plan.rows);
      }
    }
    return this.store.finish(run.id);
  }

  private eventsOf<E extends SnapshotEntity>(entity: E, rows: SnapshotRowOf[E][]): DomainEvent[] {
    const id = this.options.eventId;
    switch (entity) {
      case 'users':
        return (rows as SnapshotRowOf['users'][]).map((user) => userRegistered(id(), user));
      case 'products': {
        const at = this.options.clock.nowMicros();
        return (rows as SnapshotRowOf['products'][]).map((product) => productUpserted(id(), product, at));
      }
      case 'inventory':
        return (rows as SnapshotRowOf['inventory'][]).map((stock) => inventoryAdjusted(id(), stock, { cause: 'ADJUSTED', reason: 'snapshot' }));
      default:
        return (rows as SnapshotRowOf['orders'][]).flatMap(({ order, payment }) => [
          ...(payment ? [paymentCaptured(id(), payment)] : []),
          orderSnapshot(id(), order, payment),
        ]);
    }
  }
}
