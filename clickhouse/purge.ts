import type { ClickHouseClient } from '@clickhouse/client';
import { createLogger, type Logger } from '../core/log.js';
import { microsToSqlTime } from '../core/time.js';
import { noopMetrics, type Counter, type Metrics } from '../metrics/metrics.js';
import { assertIdentifier } from './client.js';
import { classifyClickHouseError } from './errors.js';

export interface DeletedOrderPurgeOptions {
  /** A deleted order's rows are kept this long after its deletion (SPEC §6). Default 7 days. */
  retentionMs: number;
  /** How often a purge runs. Default 1 h (so rows go between 7 days and 7 days + 1 h). */
  intervalMs: number;
  /** Orders removed per round of deletes. Default 10,000. */
  batch: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_DELETED_ORDER_PURGE: DeletedOrderPurgeOptions = {
  retentionMs: 7 * 24 * 3600_000,
  intervalMs: 3600_000,
  batch: 10_000,
  metrics: noopMetrics,
  logger: createLogger('clickhouse-purge'),
};

/**
 * The deletes that remove the given deleted orders from `orders` and `order_items`, in the order
 * they must run, each finished before the next starts: first every older version (is_deleted = 0)
 * of those orders, then their delete rows. Until the last step a delete row, the order's latest
 * version, is still there, so FINAL hides the order at every moment; a row TTL cannot keep that
 * order (it removed a delete row from its part alone while an older version sat in another,
 * unmerged part, and the deleted order came back under FINAL: migration 002 dropped that TTL).
 */
export function purgeSteps(database: string): { table: 'orders' | 'order_items'; isDeleted: 0 | 1; query: string }[] {
  const db = assertIdentifier(database);
  return (
    [
      ['order_items', 0],
      ['orders', 0],
      ['order_items', 1],
      ['orders', 1],
    ] as const
  ).map(([table, isDeleted]) => ({
    table,
    isDeleted,
    query: `DELETE FROM ${db}.${table} WHERE order_id IN {ids:Array(UUID)} AND is_deleted = ${isDeleted}`,
  }));
}

/**
 * Physically removes orders deleted before `cutoff` (epoch µs), all versions of each together
 * (`purgeSteps`), `batch` orders per round; returns how many. Idempotent: an interrupted purge
 * leaves the delete rows of the orders it had not finished, so the next one (in this process or
 * another) picks them again.
 */
export async function purgeDeletedOrders(client: ClickHouseClient, database: string, cutoff: number, batch: number): Promise<number> {
  const db = assertIdentifier(database);
  let total = 0;
  for (;;) {
    const result = await client.query({
      query: `SELECT DISTINCT order_id FROM ${db}.orders WHERE is_deleted = 1 AND updated_at < {cutoff:DateTime64(6, 'UTC')} LIMIT {batch:UInt32}`,
      query_params: { cutoff: microsToSqlTime(cutoff), batch },
      format: 'JSONEachRow',
    });
    const ids = (await result.json<{ order_id: string }>()).map((row) => row.order_id);
    if (ids.length === 0) return total;
    for (const step of purgeSteps(db)) {
      await client.command({ query: step.query, query_params: { ids }, clickhouse_settings: { lightweight_deletes_sync: '2' } });
    }
    total += ids.length;
    if (ids.length < batch) return total;
  }
}

/**
 * Runs `purgeDeletedOrders` every `intervalMs` for the orders deleted more than `retentionMs` ago.
 *
 * Lifecycle: `start` purges at once and then on every tick (the timer does not keep the process
 * alive) until `stop`, which waits for a purge in flight. A failed purge is logged and tried again
 * at the next tick. Several processes may run one on the same tables: the deletes are idempotent.
 */
export class DeletedOrderPurger {
  private readonly options: DeletedOrderPurgeOptions;
  private readonly purged: Counter;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    options: Partial<DeletedOrderPurgeOptions> = {},
  ) {
    this.options = { ...DEFAULT_DELETED_ORDER_PURGE, ...options };
    assertIdentifier(database);
    this.purged = this.options.metrics.counter({ name: 'shopstream_analytics_orders_purged_total', help: 'Deleted orders removed from ClickHouse after the retention' });
  }

  start(): void {
    if (this.timer) return;
    void this.purge();
    this.timer = setInterval(() => void this.purge(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One purge now; returns how many orders it removed (0 when one is already running or it failed). */
  purge(now = Date.now() * 1000): Promise<number> {
    if (this.running) return Promise.resolve(0);
    this.running = purgeDeletedOrders(this.client, this.database, now - this.options.retentionMs * 1000, this.options.batch)
      .then(
        (count) => {
          if (count > 0) this.options.logger.info('purged deleted orders', { count });
          this.purged.inc(undefined, count);
          return count;
        },
        (error: unknown) => {
          this.options.logger.warn('deleted-order purge failed', { error: classifyClickHouseError(error, 'purge of deleted orders') });
          return 0;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
