import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '../../clickhouse/client.js';
import { migrateClickHouse } from '../../clickhouse/migrate.js';
import { DeletedOrderPurger, purgeSteps } from '../../clickhouse/purge.js';
import { ClickHouseAnalyticsWriter } from '../../clickhouse/writer.js';
import type { OrderEnriched } from '../../orders/records.js';
import { uniqueId } from '../support/env.js';

const DAY_US = 24 * 3600 * 1_000_000;
const now = Date.now() * 1000;

function version(orderId: string, v: number, deletedDaysAgo?: number): OrderEnriched {
  const updated = deletedDaysAgo === undefined ? now - 9 * DAY_US : now - deletedDaysAgo * DAY_US;
  return {
    order_id: orderId,
    version: v,
    is_deleted: deletedDaysAgo !== undefined,
    user_id: '10000000-0000-4000-8000-000000000001',
    user_name: 'Ada',
    status: 'PENDING',
    currency: 'EUR',
    total_amount: '3.00',
    item_count: 2,
    items: [1, 2].map((line) => ({ line_no: line, product_id: '00000000-0000-4000-8000-000000000001', product_name: 'Tea', category: 'Food', quantity: 1, unit_price: '1.50', line_total: '1.50' })),
    payment_method: '',
    payment_status: '',
    created_at: now - 10 * DAY_US,
    updated_at: updated,
    committed_at: updated,
  };
}

/**
 * Deleted orders in ClickHouse (SPEC §6): `orders FINAL` and `order_items FINAL` never show a
 * deleted order, whatever TTL, merges or the purge do to the parts holding its versions, and the
 * rows of an order deleted more than 7 days ago are removed. The fault: an order's first version
 * in one part, its (backdated) delete in another that does not merge with it, and every TTL
 * applied (MATERIALIZE TTL): a TTL on the delete row alone brings the first version back.
 */
describe('deleted orders in ClickHouse', () => {
  const path = mkdtempSync(join(tmpdir(), 'shopstream-purge-ch-'));
  const database = `analytics_p${uniqueId()}`;
  const clickhouse = createClickHouse({ path, database });
  const writer = new ClickHouseAnalyticsWriter(clickhouse, database);
  const [live, deletedLongAgo, deletedLongAgoToo, deletedRecently] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

  const rows = async <T>(query: string, params: Record<string, unknown> = {}) =>
    (await clickhouse.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  const visible = async () => ({
    orders: (await rows<{ order_id: string }>(`SELECT order_id FROM ${database}.orders FINAL ORDER BY order_id`)).map((r) => r.order_id),
    items: (await rows<{ order_id: string }>(`SELECT DISTINCT order_id FROM ${database}.order_items FINAL ORDER BY order_id`)).map((r) => r.order_id),
  });
  const stored = async (table: string, orderId: string) =>
    Number((await rows<{ n: string }>(`SELECT count() AS n FROM ${database}.${table} WHERE order_id = {id:UUID}`, { id: orderId }))[0]!.n);
  let token = 0;
  const write = (record: OrderEnriched) => writer.writeOrders([record], `purge-test-${++token}`);

  beforeAll(async () => {
    await migrateClickHouse(clickhouse, database);
    // The fault: versions of one order stay in separate parts (as an old, large part and a new,
    // small one do), because no regular merge may take them together. Mutations still run.
    for (const table of ['orders', 'order_items']) {
      await clickhouse.command({ query: `ALTER TABLE ${database}.${table} MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1` });
    }
  });
  afterAll(async () => {
    await clickhouse.close();
    rmSync(path, { recursive: true, force: true });
  });

  it('never shows a deleted order, even when every TTL is applied to its parts one by one', async () => {
    for (const id of [live, deletedLongAgo, deletedLongAgoToo, deletedRecently]) await write(version(id, 1));
    await write(version(deletedRecently, 2, 2));
    await write(version(deletedLongAgo, 2, 8));
    await write(version(deletedLongAgoToo, 2, 9));
    try {
      await clickhouse.command({ query: `ALTER TABLE ${database}.orders MATERIALIZE TTL`, clickhouse_settings: { mutations_sync: '2' } });
    } catch (error) {
      // A table without a TTL has nothing to apply.
      if (!/no TTL set/.test(String((error as Error).message))) throw error;
    }
    expect(await visible()).toEqual({ orders: [live], items: [live] });
  });

  it('removes all versions of an order together, never exposing an older one', async () => {
    for (const step of purgeSteps(database)) {
      await clickhouse.command({ query: step.query, query_params: { ids: [deletedLongAgo] }, clickhouse_settings: { lightweight_deletes_sync: '2' } });
      expect(await visible(), `after deleting ${step.table} rows with is_deleted = ${step.isDeleted}`).toEqual({ orders: [live], items: [live] });
    }
    expect([await stored('orders', deletedLongAgo), await stored('order_items', deletedLongAgo)]).toEqual([0, 0]);
  });

  it('purges the orders deleted more than 7 days ago and keeps the rest', async () => {
    const purger = new DeletedOrderPurger(clickhouse, database);
    expect(await purger.purge()).toBe(1);
    expect([await stored('orders', deletedLongAgoToo), await stored('order_items', deletedLongAgoToo)]).toEqual([0, 0]);
    expect([await stored('orders', deletedRecently), await stored('order_items', deletedRecently)]).toEqual([2, 4]);
    expect([await stored('orders', live), await stored('order_items', live)]).toEqual([1, 2]);
    expect(await visible()).toEqual({ orders: [live], items: [live] });
    expect(await purger.purge()).toBe(0);
  });
});
