import { ORDER_STATUSES, type OrderStatus } from '../orders/model.js';

/** An order this run created, as far as this run knows it. */
export interface TrackedOrder {
  id: string;
  status: OrderStatus;
  /** Decimal string, as the API returned it. */
  total: string;
}

/**
 * The run's orders: counts of every order it created by status (what MySQL must show when no
 * request failed), and per status a pool of orders free to act on. An operation `take`s an
 * order out of its pool, so no two requests work on one order at once, and `settle`s it into
 * the pool of its new status, `retire`s it (refused, or deleted: nothing more to do with it) or
 * `lose`s it (the request failed, its outcome is unknown). A full pool drops a random member to
 * make room: that order stays counted but is not acted on again (memory stays bounded).
 */
export class OrderBook {
  readonly byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
  created = 0;
  deleted = 0;
  /** Orders whose last request failed without an answer or with a 5xx: their state is not known. */
  uncertain = 0;
  private readonly pools = new Map<OrderStatus, TrackedOrder[]>(ORDER_STATUSES.map((s) => [s, []]));

  constructor(
    private readonly capacity: number,
    private readonly random: () => number,
  ) {}

  /** A new order, answered 201 by the API. */
  add(order: TrackedOrder): void {
    this.created++;
    this.byStatus[order.status]++;
    this.pool(order);
  }

  /** A random free order in one of `statuses` (uniform over all of them), out of its pool. */
  take(statuses: readonly OrderStatus[]): TrackedOrder | undefined {
    const total = statuses.reduce((sum, s) => sum + this.pools.get(s)!.length, 0);
    if (total === 0) return undefined;
    let index = Math.floor(this.random() * total);
    for (const status of statuses) {
      const pool = this.pools.get(status)!;
      if (index < pool.length) {
        const order = pool[index]!;
        pool[index] = pool[pool.length - 1]!;
        pool.pop();
        return order;
      }
      index -= pool.length;
    }
    return undefined;
  }

  /** The change was accepted: the order is now `status` and free again. */
  settle(order: TrackedOrder, status: OrderStatus): void {
    this.byStatus[order.status]--;
    this.byStatus[status]++;
    order.status = status;
    this.pool(order);
  }

  /** Free again, unchanged (the request was rate limited: it may be tried again). */
  release(order: TrackedOrder): void {
    this.pool(order);
  }

  /** Unchanged and no longer acted on (refused: someone else changed it, or it is gone). */
  retire(_order: TrackedOrder): void {}

  /** Soft-deleted by the admin route: it keeps its status (MySQL does too) and leaves the pools. */
  markDeleted(_order: TrackedOrder): void {
    this.deleted++;
  }

  /** The request's outcome is unknown. */
  lose(_order: TrackedOrder): void {
    this.uncertain++;
  }

  free(status: OrderStatus): number {
    return this.pools.get(status)!.length;
  }

  private pool(order: TrackedOrder): void {
    const pool = this.pools.get(order.status)!;
    if (pool.length < this.capacity) pool.push(order);
    else pool[Math.floor(this.random() * pool.length)] = order;
  }
}
