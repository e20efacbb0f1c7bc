import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import sql, { bulk, empty, join, type Sql } from 'sql-template-tag';
import { ConflictError } from '../core/errors.js';
import { microsToSqlTime, sqlTimeToMicros } from '../core/time.js';
import type { DomainEvent } from '../orders/events.js';
import type { Inventory, Order, OrderStatus, Payment, PaymentMethod, Product, User } from '../orders/model.js';
import type { OrderPageQuery, OrderStore, OrderUnitOfWork } from '../orders/ports.js';
import { inTransaction } from './pool.js';

type Queryable = Pool | PoolConnection;

async function rows<T>(db: Queryable, query: Sql): Promise<T[]> {
  const [result] = await db.query<RowDataPacket[]>(query.sql, query.values);
  return result as T[];
}

async function exec(db: Queryable, query: Sql): Promise<ResultSetHeader> {
  const [result] = await db.query<ResultSetHeader>(query.sql, query.values);
  return result;
}

/** Runs an insert; a duplicate of `key` becomes the given conflict. */
async function insertUnique(db: Queryable, query: Sql, conflicts: Record<string, ConflictError>): Promise<void> {
  try {
    await exec(db, query);
  } catch (error) {
    const { errno, sqlMessage = '' } = error as { errno?: number; sqlMessage?: string };
    if (errno === 1062) {
      const key = Object.keys(conflicts).find((name) => sqlMessage.includes(name));
      if (key) throw conflicts[key]!;
    }
    throw error;
  }
}

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_amount: string;
  currency: string;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  deleted_by: string | null;
  delete_reason: string | null;
}
interface ItemRow {
  order_id: string;
  line_no: number;
  product_id: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}

const ORDER_COLUMNS = sql`id, user_id, status, total_amount, currency, version, created_at, updated_at, deleted_at, deleted_by, delete_reason`;
const PRODUCT_COLUMNS = sql`id, sku, name, category, price, currency, version`;

function toOrder(row: OrderRow, items: ItemRow[]): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    totalAmount: row.total_amount,
    currency: row.currency,
    version: Number(row.version),
    createdAt: sqlTimeToMicros(row.created_at),
    updatedAt: sqlTimeToMicros(row.updated_at),
    items: items.map((item) => ({
      lineNo: Number(item.line_no),
      productId: item.product_id,
      quantity: Number(item.quantity),
      unitPrice: item.unit_price,
      lineTotal: item.line_total,
    })),
    ...(row.deleted_at ? { deletion: { at: sqlTimeToMicros(row.deleted_at), by: row.deleted_by ?? '', reason: row.delete_reason ?? '' } } : {}),
  };
}

/** Orders with their items: one query for the orders, one for all their items. */
async function withItems(db: Queryable, orderRows: OrderRow[]): Promise<Order[]> {
  if (orderRows.length === 0) return [];
  const items = await rows<ItemRow>(
    db,
    sql`SELECT order_id, line_no, product_id, quantity, unit_price, line_total FROM order_items
        WHERE order_id IN (${join(orderRows.map((row) => row.id))}) ORDER BY order_id, line_no`,
  );
  const byOrder = new Map<string, ItemRow[]>();
  for (const item of items) byOrder.set(item.order_id, [...(byOrder.get(item.order_id) ?? []), item]);
  return orderRows.map((row) => toOrder(row, byOrder.get(row.id) ?? []));
}

const toProduct = (row: Product): Product => ({ ...row, version: Number(row.version) });
const toUser = (row: { id: string; email: string; name: string; version: number; created_at: string }): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  version: Number(row.version),
  createdAt: sqlTimeToMicros(row.created_at),
});
const toInventory = (row: { product_id: string; on_hand: number; reserved: number; version: number; updated_at: string }): Inventory => ({
  productId: row.product_id,
  onHand: Number(row.on_hand),
  reserved: Number(row.reserved),
  version: Number(row.version),
  updatedAt: sqlTimeToMicros(row.updated_at),
});

/** The write side's store on MySQL/MariaDB. All SQL is parameterized (sql-template-tag). */
export function mysqlOrderStore(pool: Pool): OrderStore {
  return {
    transaction: (work) => inTransaction(pool, (connection) => work(unitOfWork(connection))),

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
      const [row] = await rows<{ id: string; order_id: string; method: PaymentMethod; status: 'CAPTURED'; amount: string; currency: string; version: number; created_at: string }>(
        pool,
        sql`SELECT id, order_id, method, status, amount, currency, version, created_at FROM payments WHERE order_id = ${orderId}`,
      );
      return (
        row && {
          id: row.id,
          orderId: row.order_id,
          method: row.method,
          status: row.status,
          amount: row.amount,
          currency: row.currency,
          version: Number(row.version),
          createdAt: sqlTimeToMicros(row.created_at),
        }
      );
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
      const [row] = await rows<Parameters<typeof toInventory>[0]>(
        pool,
        sql`SELECT product_id, on_hand, reserved, version, updated_at FROM inventory WHERE product_id = ${productId}`,
      );
      return row && toInventory(row);
    },

    async getUser(id) {
      const [row] = await rows<Parameters<typeof toUser>[0]>(pool, sql`SELECT id, email, name, version, created_at FROM users WHERE id = ${id}`);
      return row && toUser(row);
    },
  };
}

function unitOfWork(connection: PoolConnection): OrderUnitOfWork {
  return {
    async findUser(id) {
      const [row] = await rows<Parameters<typeof toUser>[0]>(connection, sql`SELECT id, email, name, version, created_at FROM users WHERE id = ${id}`);
      return row && toUser(row);
    },
    async insertUser(user) {
      const at = microsToSqlTime(user.createdAt);
      await insertUnique(
        connection,
        sql`INSERT INTO users (id, email, name, version, created_at, updated_at) VALUES (${user.id}, ${user.email}, ${user.name}, ${user.version}, ${at}, ${at})`,
        {
          uq_users_email: new ConflictError('EMAIL_TAKEN', `a user with e-mail ${user.email} exists already`),
          PRIMARY: new ConflictError('USER_EXISTS', `user ${user.id} exists already`),
        },
      );
    },

    async findProducts(ids) {
      if (ids.length === 0) return [];
      return (await rows<Product>(connection, sql`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id IN (${join(ids)})`)).map(toProduct);
    },
    async lockProduct(id) {
      const [row] = await rows<Product>(connection, sql`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ${id} FOR UPDATE`);
      return row && toProduct(row);
    },
    async saveProduct(product, isNew) {
      if (isNew) {
        await insertUnique(
          connection,
          sql`INSERT INTO products (id, sku, name, category, price, currency, version)
              VALUES (${product.id}, ${product.sku}, ${product.name}, ${product.category}, ${product.price}, ${product.currency}, ${product.version})`,
          { uq_products_sku: new ConflictError('SKU_TAKEN', `a product with SKU ${product.sku} exists already`) },
        );
      } else {
        await exec(
          connection,
          sql`UPDATE products SET name = ${product.name}, category = ${product.category}, price = ${product.price},
                currency = ${product.currency}, version = ${product.version}, updated_at = CURRENT_TIMESTAMP(6)
              WHERE id = ${product.id}`,
        );
      }
    },
    async lockInventory(productId) {
      const [row] = await rows<Parameters<typeof toInventory>[0]>(
        connection,
        sql`SELECT product_id, on_hand, reserved, version, updated_at FROM inventory WHERE product_id = ${productId} FOR UPDATE`,
      );
      return row && toInventory(row);
    },
    async saveInventory(inventory, isNew) {
      const at = microsToSqlTime(inventory.updatedAt);
      await exec(
        connection,
        isNew
          ? sql`INSERT INTO inventory (product_id, on_hand, reserved, version, updated_at)
                VALUES (${inventory.productId}, ${inventory.onHand}, ${inventory.reserved}, ${inventory.version}, ${at})`
          : sql`UPDATE inventory SET on_hand = ${inventory.onHand}, version = ${inventory.version}, updated_at = ${at}
                WHERE product_id = ${inventory.productId}`,
      );
    },

    async reserveStock(productId, quantity) {
      const result = await exec(
        connection,
        sql`UPDATE inventory SET reserved = reserved + ${quantity} WHERE product_id = ${productId} AND on_hand - reserved >= ${quantity}`,
      );
      return result.affectedRows === 1;
    },
    async releaseStock(productId, quantity) {
      await exec(connection, sql`UPDATE inventory SET reserved = reserved - ${quantity} WHERE product_id = ${productId}`);
    },
    async shipStock(productId, quantity) {
      await exec(connection, sql`UPDATE inventory SET on_hand = on_hand - ${quantity}, reserved = reserved - ${quantity} WHERE product_id = ${productId}`);
    },

    async insertOrder(order) {
      await exec(
        connection,
        sql`INSERT INTO orders (id, user_id, status, total_amount, currency, version, created_at, updated_at)
            VALUES (${order.id}, ${order.userId}, ${order.status}, ${order.totalAmount}, ${order.currency}, ${order.version},
                    ${microsToSqlTime(order.createdAt)}, ${microsToSqlTime(order.updatedAt)})`,
      );
      await exec(
        connection,
        sql`INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price, line_total)
            VALUES ${bulk(order.items.map((item) => [order.id, item.lineNo, item.productId, item.quantity, item.unitPrice, item.lineTotal]))}`,
      );
    },
    async lockOrder(id) {
      const found = await rows<OrderRow>(connection, sql`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ${id} FOR UPDATE`);
      return (await withItems(connection, found))[0];
    },
    async updateOrder(order) {
      const deletion = order.deletion;
      await exec(
        connection,
        sql`UPDATE orders SET status = ${order.status}, version = ${order.version}, updated_at = ${microsToSqlTime(order.updatedAt)},
              deleted_at = ${deletion ? microsToSqlTime(deletion.at) : null}, deleted_by = ${deletion?.by ?? null},
              delete_reason = ${deletion?.reason ?? null}
            WHERE id = ${order.id}`,
      );
    },

    async insertPayment(payment) {
      await insertUnique(
        connection,
        sql`INSERT INTO payments (id, order_id, method, status, amount, currency, version, created_at)
            VALUES (${payment.id}, ${payment.orderId}, ${payment.method}, ${payment.status}, ${payment.amount}, ${payment.currency},
                    ${payment.version}, ${microsToSqlTime(payment.createdAt)})`,
        { uq_payments_order: new ConflictError('ORDER_NOT_PAYABLE', `order ${payment.orderId} is paid already`) },
      );
    },

    async claimIdempotencyKey(key, requestHash) {
      try {
        await exec(connection, sql`INSERT INTO idempotency_keys (idem_key, request_hash, response_status, response_body) VALUES (${key}, ${requestHash}, 0, '')`);
        return { claimed: true };
      } catch (error) {
        if ((error as { errno?: number }).errno !== 1062) throw error;
        // A locking read sees the latest committed row, whatever this transaction's snapshot.
        const [row] = await rows<{ request_hash: string; response_body: string }>(
          connection,
          sql`SELECT request_hash, response_body FROM idempotency_keys WHERE idem_key = ${key} FOR UPDATE`,
        );
        return { claimed: false, requestHash: row!.request_hash, response: row!.response_body };
      }
    },
    async completeIdempotencyKey(key, response) {
      await exec(connection, sql`UPDATE idempotency_keys SET response_status = 201, response_body = ${response} WHERE idem_key = ${key}`);
    },

    async appendEvent(event: DomainEvent) {
      await exec(
        connection,
        sql`INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload)
            VALUES (${event.eventId}, ${event.aggregateType}, ${event.aggregateId}, ${event.aggregateVersion}, ${event.eventType},
                    ${JSON.stringify(event.payload)})`,
      );
    },
  };
}
