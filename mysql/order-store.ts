import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import sql, { bulk, empty, join, type Sql } from 'sql-template-tag';
import { ConflictError } from '../core/errors.js';
import { microsToSqlTime } from '../core/time.js';
import type { DomainEvent } from '../orders/events.js';
import type { Inventory, Order, Product } from '../orders/model.js';
import type { IdempotencyKeyStore, OrderPageQuery, OrderStore, OrderUnitOfWork } from '../orders/ports.js';
import { auditInsert } from './admin-store.js';
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

/** Rows of a read outside any transaction. */
async function rows<T>(pool: Pool, statement: Sql): Promise<T[]> {
  return (await query<RowDataPacket[]>(pool, statement)) as T[];
}

/** Orders with their items: one query for the orders, one for all their items. */
async function withItems(pool: Pool, orderRows: OrderRow[]): Promise<Order[]> {
  if (orderRows.length === 0) return [];
  return assemble(orderRows, await rows<ItemRow>(pool, itemsOf(orderRows.map((row) => row.id))));
}

/** The outbox row of an event; its created_at (the `committed_at` the pipeline measures from) is the insert's time. */
export function outboxInsert(event: DomainEvent): Sql {
  return sql`INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload)
             VALUES (${event.eventId}, ${event.aggregateType}, ${event.aggregateId}, ${event.aggregateVersion}, ${event.eventType},
                     ${JSON.stringify(event.payload)})`;
}

/** The outbox rows of several events in one statement, in the order given (their ids grow in that order). */
export function outboxInsertMany(events: DomainEvent[]): Sql {
  return sql`INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload)
             VALUES ${bulk(events.map((event) => [event.eventId, event.aggregateType, event.aggregateId, event.aggregateVersion, event.eventType, JSON.stringify(event.payload)]))}`;
}

/** The write side's store on MySQL/MariaDB. All SQL is parameterized (sql-template-tag). */
export function mysqlOrderStore(pool: Pool): OrderStore & IdempotencyKeyStore {
  return {
    transaction: (work) => inTransaction(pool, (tx) => work(unitOfWork(tx))),

    async purgeIdempotencyKeys(retentionMs, limit) {
      const deleted = await query<ResultSetHeader>(
        pool,
        sql`DELETE FROM idempotency_keys
            WHERE created_at < TIMESTAMPADD(MICROSECOND, ${-Math.round(retentionMs * 1000)}, CURRENT_TIMESTAMP(6))
            ORDER BY created_at LIMIT ${limit}`,
      );
      return deleted.affectedRows;
    },

    async getOrder(id) {
      const found = await rows<OrderRow>(pool, sql`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ${id} AND deleted_at IS NULL`);
      return (await withItems(pool, found))[0];
    },

    async listOrders(query: OrderPageQuery) {
      const conditions = [sql`deleted_at IS NULL`];
      if (query.userId) conditions.push(sql`user_id = ${query.userId}`);
      if (query.status) conditions.push(sql`status = ${query.status}`);
      if (query.after) {
        const at = microsToSqlTime(query.after.createdAt);
        conditions.push(sql`(created_at < ${at} OR (created_at = ${at} AND id < ${query.after.id}))`);
      }
      const found = await rows<OrderRow>(
        pool,
        sql`SELECT ${ORDER_COLUMNS} FROM orders WHERE ${join(conditions, ' AND ')}
            ORDER BY created_at DESC, id DESC LIMIT ${query.limit}`,
      );
      return withItems(pool, found);
    },

    async getPayment(orderId) {
      const [row] = await rows<PaymentRow>(pool, sql`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = ${orderId}`);
      return row && toPayment(row);
    },

    async listProducts({ limit, afterId, category }) {
      const found = await rows<Product>(
        pool,
        sql`SELECT ${PRODUCT_COLUMNS} FROM products
            WHERE 1 = 1 ${afterId ? sql`AND id > ${afterId}` : empty} ${category ? sql`AND category = ${category}` : empty}
            ORDER BY id LIMIT ${limit}`,
      );
      return found.map(toProduct);
    },

    async getProduct(id) {
      const [row] = await rows<Product>(pool, sql`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ${id}`);
      return row && toProduct(row);
    },

    async getInventory(productId) {
      const [row] = await rows<InventoryRow>(
        pool,
        sql`SELECT ${INVENTORY_COLUMNS} FROM inventory WHERE product_id = ${productId}`,
      );
      return row && toInventory(row);
    },

    async getUser(id) {
      const [row] = await rows<UserRow>(pool, sql`SELECT ${USER_COLUMNS} FROM users WHERE id = ${id}`);
      return row && toUser(row);
    },
  };
}

/**
 * The unit of work on a batching transaction: reads and statements whose outcome matters run at
 * once; plain writes are deferred and reach the server with the next read or with COMMIT.
 */
function unitOfWork(tx: BatchingTransaction): OrderUnitOfWork {
  const read = <T>(statement: Sql) => tx.run<T[]>(statement);
  /**
   * One UPDATE per [productId, quantity] line (`set`, under the optional extra `condition`), each
   * moving the row to the next version, and the rows read back, all in one packet. The read
   * needs no lock: every row the updates changed is locked by this transaction, so it shows
   * this transaction's write (READ COMMITTED reads the newest committed version, and our own).
   */
  const changeStock = async (lines: [string, number][], at: number, set: (quantity: number) => Sql, condition?: (quantity: number) => Sql) => {
    if (lines.length === 0) return { results: [] as ResultSetHeader[], stock: [] as Inventory[] };
    const updatedAt = microsToSqlTime(at);
    const results = await tx.runMany([
      ...lines.map(
        ([productId, quantity]) =>
          sql`UPDATE inventory SET ${set(quantity)}, version = version + 1, updated_at = ${updatedAt}
              WHERE product_id = ${productId} ${condition ? condition(quantity) : empty}`,
      ),
      sql`SELECT ${INVENTORY_COLUMNS} FROM inventory WHERE product_id IN (${join(lines.map(([productId]) => productId))})`,
    ]);
    const rowsById = new Map((results.pop() as InventoryRow[]).map((row) => [row.product_id, toInventory(row)]));
    return { results: results as ResultSetHeader[], stock: lines.flatMap(([productId]) => rowsById.get(productId) ?? []) };
  };
  return {
    async findUser(id) {
      const [row] = await read<UserRow>(sql`SELECT ${USER_COLUMNS} FROM users WHERE id = ${id}`);
      return row && toUser(row);
    },
    async insertUser(user) {
      const at = microsToSqlTime(user.createdAt);
      tx.defer(sql`INSERT INTO users (id, email, name, version, created_at, updated_at) VALUES (${user.id}, ${user.email}, ${user.name}, ${user.version}, ${at}, ${at})`, {
        uq_users_email: new ConflictError('EMAIL_TAKEN', `a user with e-mail ${user.email} exists already`),
        PRIMARY: new ConflictError('USER_EXISTS', `user ${user.id} exists already`),
      });
    },

    async findProducts(ids) {
      if (ids.length === 0) return [];
      return (await read<Product>(sql`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id IN (${join(ids)})`)).map(toProduct);
    },
    async lockProduct(id) {
      const [row] = await read<Product>(sql`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ${id} FOR UPDATE`);
      return row && toProduct(row);
    },
    async saveProduct(product, isNew) {
      if (isNew) {
        tx.defer(
          sql`INSERT INTO products (id, sku, name, category, price, currency, version)
              VALUES (${product.id}, ${product.sku}, ${product.name}, ${product.category}, ${product.price}, ${product.currency}, ${product.version})`,
          { uq_products_sku: new ConflictError('SKU_TAKEN', `a product with SKU ${product.sku} exists already`) },
        );
      } else {
        tx.defer(
          sql`UPDATE products SET name = ${product.name}, category = ${product.category}, price = ${product.price},
                currency = ${product.currency}, version = ${product.version}, updated_at = CURRENT_TIMESTAMP(6)
              WHERE id = ${product.id}`,
        );
      }
    },
    async lockInventory(productId) {
      const [row] = await read<InventoryRow>(
        sql`SELECT ${INVENTORY_COLUMNS} FROM inventory WHERE product_id = ${productId} FOR UPDATE`,
      );
      return row && toInventory(row);
    },
    async saveInventory(inventory, isNew) {
      const at = microsToSqlTime(inventory.updatedAt);
      tx.defer(
        isNew
          ? sql`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at)
                VALUES (${inventory.productId}, ${inventory.onHand}, ${inventory.reserved}, ${inventory.version}, ${at})`
          : sql`UPDATE inventory SET on_hand = ${inventory.onHand}, version = ${inventory.version}, updated_at = ${at}
                WHERE product_id = ${inventory.productId}`,
      );
    },

    async reserveStock(lines, at) {
      const { results, stock } = await changeStock(lines, at, (quantity) => sql`reserved = reserved + ${quantity}`, (quantity) => sql`AND on_hand - reserved >= ${quantity}`);
      const short = results.findIndex((result) => result.affectedRows !== 1);
      return short < 0 ? { stock } : { short: lines[short]![0] };
    },
    async releaseStock(lines, at) {
      return (await changeStock(lines, at, (quantity) => sql`reserved = reserved - ${quantity}`)).stock;
    },
    async shipStock(lines, at) {
      return (await changeStock(lines, at, (quantity) => sql`on_hand = on_hand - ${quantity}, reserved = reserved - ${quantity}`)).stock;
    },

    async insertOrder(order) {
      tx.defer(
        sql`INSERT INTO orders (id, user_id, status, total_amount, currency, version, created_at, updated_at)
            VALUES (${order.id}, ${order.userId}, ${order.status}, ${order.totalAmount}, ${order.currency}, ${order.version},
                    ${microsToSqlTime(order.createdAt)}, ${microsToSqlTime(order.updatedAt)})`,
      );
      tx.defer(
        sql`INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price, line_total)
            VALUES ${bulk(order.items.map((item) => [order.id, item.lineNo, item.productId, item.quantity, item.unitPrice, item.lineTotal]))}`,
      );
    },
    async lockOrder(id) {
      const [orderRows, items] = (await tx.runMany([sql`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ${id} FOR UPDATE`, itemsOf([id])])) as [OrderRow[], ItemRow[]];
      return assemble(orderRows, items)[0];
    },
    async updateOrder(order) {
      const deletion = order.deletion;
      tx.defer(
        sql`UPDATE orders SET status = ${order.status}, version = ${order.version}, updated_at = ${microsToSqlTime(order.updatedAt)},
              deleted_at = ${deletion ? microsToSqlTime(deletion.at) : null}, deleted_by = ${deletion?.by ?? null},
              delete_reason = ${deletion?.reason ?? null}
            WHERE id = ${order.id}`,
      );
    },

    async insertPayment(payment) {
      tx.defer(
        sql`INSERT INTO payments (id, order_id, method, status, amount, currency, version, created_at)
            VALUES (${payment.id}, ${payment.orderId}, ${payment.method}, ${payment.status}, ${payment.amount}, ${payment.currency},
                    ${payment.version}, ${microsToSqlTime(payment.createdAt)})`,
        { uq_payments_order: new ConflictError('ORDER_NOT_PAYABLE', `order ${payment.orderId} is paid already`) },
      );
    },

    async claimIdempotencyKey({ route, client, key }, requestHash) {
      try {
        await tx.run(
          sql`INSERT INTO idempotency_keys (route, client, idem_key, request_hash, response_status, response_body)
              VALUES (${route}, ${client}, ${key}, ${requestHash}, 0, '')`,
        );
        return { claimed: true };
      } catch (error) {
        if ((error as { errno?: number }).errno !== 1062) throw error;
        // A locking read sees the latest committed row, whatever this transaction's snapshot.
        const [row] = await read<{ request_hash: string; response_body: string }>(
          sql`SELECT request_hash, response_body FROM idempotency_keys WHERE route = ${route} AND client = ${client} AND idem_key = ${key} FOR UPDATE`,
        );
        return { claimed: false, requestHash: row!.request_hash, response: row!.response_body };
      }
    },
    async completeIdempotencyKey({ route, client, key }, response) {
      tx.defer(
        sql`UPDATE idempotency_keys SET response_status = 201, response_body = ${response}
            WHERE route = ${route} AND client = ${client} AND idem_key = ${key}`,
      );
    },

    async appendEvent(event: DomainEvent) {
      tx.defer(outboxInsert(event));
    },

    async appendAudit(entry) {
      tx.defer(auditInsert(entry));
    },
  };
}
