import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import sql, { bulk, empty, join, raw, type Sql } from 'sql-template-tag';
import { ShopstreamError } from '../core/errors.js';
import { sqlTimeToMicros } from '../core/time.js';
import type { Product } from '../orders/model.js';
import type { SnapshotEntity, SnapshotPlan, SnapshotRowOf, SnapshotRun, SnapshotStore, EntityProgress } from '../snapshot/ports.js';
import { outboxInsertMany } from './order-store.js';
import { inTransaction, query, type BatchingTransaction } from './pool.js';
import {
  assemble,
  INVENTORY_COLUMNS,
  itemsOf,
  ORDER_COLUMNS,
  PAYMENT_COLUMNS,
  PRODUCT_COLUMNS,
  toInventory,
  toPayment,
  toProduct,
  toUser,
  USER_COLUMNS,
  type InventoryRow,
  type ItemRow,
  type OrderRow,
  type PaymentRow,
  type UserRow,
} from './rows.js';

/** Each entity's table, primary key and columns (identifiers, never input). */
const TABLES: Record<SnapshotEntity, { table: Sql; key: Sql; columns: Sql }> = {
  users: { table: raw('users'), key: raw('id'), columns: USER_COLUMNS },
  products: { table: raw('products'), key: raw('id'), columns: PRODUCT_COLUMNS },
  inventory: { table: raw('inventory'), key: raw('product_id'), columns: INVENTORY_COLUMNS },
  orders: { table: raw('orders'), key: raw('id'), columns: ORDER_COLUMNS },
};

interface ProgressRow {
  entity: SnapshotEntity;
  up_to: string | null;
  last_key: string | null;
  rows_done: string;
  events: string;
  chunks: number;
  done: number;
}

const toProgress = (row: ProgressRow): EntityProgress => ({
  entity: row.entity,
  lastKey: row.last_key,
  rows: Number(row.rows_done),
  events: Number(row.events),
  chunks: Number(row.chunks),
  done: Number(row.done) === 1,
});

/** The snapshot's runs and checkpoints (migration 008) and its chunks, on MySQL/MariaDB. */
export function mysqlSnapshotStore(pool: Pool): SnapshotStore {
  const rows = async <T>(statement: Sql) => (await query<RowDataPacket[]>(pool, statement)) as T[];

  const runOf = async (row: { id: string; plan: string; started_at: string; finished_at: string | null }): Promise<SnapshotRun> => ({
    id: Number(row.id),
    plan: JSON.parse(row.plan) as SnapshotPlan,
    startedAt: sqlTimeToMicros(row.started_at),
    finishedAt: row.finished_at === null ? null : sqlTimeToMicros(row.finished_at),
    progress: (await rows<ProgressRow>(sql`SELECT entity, up_to, last_key, rows_done, events, chunks, done FROM snapshot_progress WHERE run_id = ${row.id}`)).map(toProgress),
  });
  const runById = async (id: number | string) => {
    const [row] = await rows<{ id: string; plan: string; started_at: string; finished_at: string | null }>(sql`SELECT id, plan, started_at, finished_at FROM snapshot_runs WHERE id = ${id}`);
    return runOf(row!);
  };

  return {
    async measure(entities, chunkSize) {
      const plans = [];
      for (const entity of entities) {
        const { table, key } = TABLES[entity];
        const [row] = await rows<{ n: string; top: string | null }>(sql`SELECT COUNT(*) AS n, MAX(${key}) AS top FROM ${table}`);
        const count = Number(row!.n);
        const [payments] = entity === 'orders' && row!.top !== null ? await rows<{ n: string }>(sql`SELECT COUNT(*) AS n FROM payments WHERE order_id <= ${row!.top}`) : [{ n: '0' }];
        plans.push({ entity, rows: count, upTo: row!.top, chunks: Math.ceil(count / chunkSize), events: count + Number(payments!.n) });
      }
      return { entities: plans, chunkSize };
    },

    async create(plan) {
      const id = await inTransaction(pool, async (tx) => {
        const inserted = await tx.run<ResultSetHeader>(sql`INSERT INTO snapshot_runs (plan, unfinished) VALUES (${JSON.stringify(plan)}, 1)`, {
          uq_snapshot_unfinished: new ShopstreamError('SNAPSHOT_UNFINISHED', 'another snapshot is unfinished: `shopstream snapshot` resumes it'),
        });
        tx.defer(sql`INSERT INTO snapshot_progress (run_id, entity, up_to, done)
                     VALUES ${bulk(plan.entities.map((e) => [inserted.insertId, e.entity, e.upTo, e.upTo === null ? 1 : 0]))}`);
        return inserted.insertId;
      });
      return runById(id);
    },

    async latest() {
      const [row] = await rows<{ id: string; plan: string; started_at: string; finished_at: string | null }>(
        sql`SELECT id, plan, started_at, finished_at FROM snapshot_runs ORDER BY unfinished IS NULL, id DESC LIMIT 1`,
      );
      return row && runOf(row);
    },

    chunk(runId, entity, limit, toEvents) {
      return inTransaction(pool, async (tx) => {
        const [checkpoint] = await tx.run<ProgressRow[]>(
          sql`SELECT entity, up_to, last_key, rows_done, events, chunks, done FROM snapshot_progress WHERE run_id = ${runId} AND entity = ${entity} FOR UPDATE`,
        );
        if (!checkpoint) throw new ShopstreamError('SNAPSHOT_NO_SUCH_ENTITY', `snapshot run ${runId} has no ${entity}`);
        if (Number(checkpoint.done) === 1) return toProgress(checkpoint);
        const found = await lockedRows(tx, entity, checkpoint.last_key, checkpoint.up_to!, limit);
        const events = found.keys.length === 0 ? [] : await toEvents(found.rows as Parameters<typeof toEvents>[0]);
        if (events.length > 0) tx.defer(outboxInsertMany(events));
        const lastKey = found.keys.at(-1) ?? checkpoint.last_key;
        const done = found.keys.length < limit;
        tx.defer(
          sql`UPDATE snapshot_progress SET last_key = ${lastKey}, rows_done = rows_done + ${found.keys.length}, events = events + ${events.length},
                chunks = chunks + ${found.keys.length > 0 ? 1 : 0}, done = ${done ? 1 : 0}
              WHERE run_id = ${runId} AND entity = ${entity}`,
        );
        return {
          entity,
          lastKey,
          rows: Number(checkpoint.rows_done) + found.keys.length,
          events: Number(checkpoint.events) + events.length,
          chunks: Number(checkpoint.chunks) + (found.keys.length > 0 ? 1 : 0),
          done,
        };
      });
    },

    async finish(runId) {
      await query(pool, sql`UPDATE snapshot_runs SET finished_at = CURRENT_TIMESTAMP(6), unfinished = NULL WHERE id = ${runId} AND finished_at IS NULL`);
      return runById(runId);
    },
  };
}

/**
 * The next `limit` rows of `entity` after `after` (keys ≤ upTo), read with a shared lock on each
 * row (LOCK IN SHARE MODE, which MySQL 8 and MariaDB both accept): a write of one of them waits
 * for this transaction. An order's items and payment are read in the same transaction; they only
 * change under their order's lock (an order's writes lock it first), which this read holds.
 */
async function lockedRows<E extends SnapshotEntity>(tx: BatchingTransaction, entity: E, after: string | null, upTo: string, limit: number) {
  const { table, key, columns } = TABLES[entity];
  const found = await tx.run<RowDataPacket[]>(
    sql`SELECT ${columns} FROM ${table} WHERE ${key} <= ${upTo} ${after === null ? empty : sql`AND ${key} > ${after}`}
        ORDER BY ${key} LIMIT ${limit} LOCK IN SHARE MODE`,
  );
  const keyOf = (row: RowDataPacket) => String(entity === 'inventory' ? row.product_id : row.id);
  const keys = found.map(keyOf);
  let result: SnapshotRowOf[SnapshotEntity][];
  if (entity === 'users') result = (found as UserRow[]).map(toUser);
  else if (entity === 'products') result = (found as Product[]).map(toProduct);
  else if (entity === 'inventory') result = (found as InventoryRow[]).map(toInventory);
  else if (keys.length === 0) result = [];
  else {
    const [items, payments] = (await tx.runMany([itemsOf(keys), sql`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id IN (${join(keys)})`])) as [ItemRow[], PaymentRow[]];
    const paymentOf = new Map(payments.map((row) => [row.order_id, toPayment(row)]));
    result = assemble(found as OrderRow[], items).map((order) => ({ order, payment: paymentOf.get(order.id) }));
  }
  return { keys, rows: result as SnapshotRowOf[E][] };
}
