import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import sql, { bulk, join, type Sql } from 'sql-template-tag';
import type { DomainEvent } from '../orders/events.js';
import type { Order, OrderStatus, Product, User } from '../orders/model.js';
import type { OrderStore, OrderUnitOfWork } from '../orders/ports.js';
import { microsToSqlTime, sqlTimeToMicros } from '../core/time.js';
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

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_amount: string;
  currency: string;
  version: number;
  created_at: string;
  updated_at: string;
}
interface ItemRow {
  line_no: number;
  product_id: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}

/** The write side's store on MySQL/MariaDB. All SQL is parameterized (sql-template-tag). */
export function mysqlOrderStore(pool: Pool): OrderStore {
  return {
    transaction: (work) => inTransaction(pool, (connection) => work(unitOfWork(connection))),
    async getOrder(id) {
      const [order] = await rows<OrderRow>(
        pool,
        sql`SELECT id, user_id, status, total_amount, currency, version, created_at, updated_at
            FROM orders WHERE id = ${id} AND deleted_at IS NULL`,
      );
      if (!order) return undefined;
      const items = await rows<ItemRow>(
        pool,
        sql`SELECT line_no, product_id, quantity, unit_price, line_total FROM order_items WHERE order_id = ${id} ORDER BY line_no`,
      );
      return toOrder(order, items);
    },
  };
}

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
  };
}

function unitOfWork(connection: PoolConnection): OrderUnitOfWork {
  return {
    async findUser(id) {
      const [row] = await rows<{ id: string; email: string; name: string; version: number; created_at: string }>(
        connection,
        sql`SELECT id, email, name, version, created_at FROM users WHERE id = ${id}`,
      );
      return row && { id: row.id, email: row.email, name: row.name, version: Number(row.version), createdAt: sqlTimeToMicros(row.created_at) };
    },
    async findProducts(ids) {
      if (ids.length === 0) return [];
      const found = await rows<Product>(
        connection,
        sql`SELECT id, sku, name, category, price, currency, version FROM products WHERE id IN (${join(ids)})`,
      );
      return found.map((product) => ({ ...product, version: Number(product.version) }));
    },
    async reserveStock(productId, quantity) {
      const result = await exec(
        connection,
        sql`UPDATE inventory SET reserved = reserved + ${quantity}, version = version + 1, updated_at = CURRENT_TIMESTAMP(6)
            WHERE product_id = ${productId} AND on_hand - reserved >= ${quantity}`,
      );
      return result.affectedRows === 1;
    },
    async insertOrder(order: Order) {
      const created = microsToSqlTime(order.createdAt);
      await exec(
        connection,
        sql`INSERT INTO orders (id, user_id, status, total_amount, currency, version, created_at, updated_at)
            VALUES (${order.id}, ${order.userId}, ${order.status}, ${order.totalAmount}, ${order.currency}, ${order.version},
                    ${created}, ${microsToSqlTime(order.updatedAt)})`,
      );
      await exec(
        connection,
        sql`INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price, line_total)
            VALUES ${bulk(order.items.map((item) => [order.id, item.lineNo, item.productId, item.quantity, item.unitPrice, item.lineTotal]))}`,
      );
    },
    async insertUser(user: User) {
      await exec(
        connection,
        sql`INSERT INTO users (id, email, name, version, created_at, updated_at)
            VALUES (${user.id}, ${user.email}, ${user.name}, ${user.version}, ${microsToSqlTime(user.createdAt)}, ${microsToSqlTime(user.createdAt)})`,
      );
    },
    async upsertProduct(product, onHand) {
      await exec(
        connection,
        sql`INSERT INTO products (id, sku, name, category, price, currency, version)
            VALUES (${product.id}, ${product.sku}, ${product.name}, ${product.category}, ${product.price}, ${product.currency}, 1)
            ON DUPLICATE KEY UPDATE name = VALUES(name), category = VALUES(category), price = VALUES(price),
              currency = VALUES(currency), version = version + 1, updated_at = CURRENT_TIMESTAMP(6)`,
      );
      await exec(
        connection,
        sql`INSERT INTO inventory (product_id, on_hand, reserved) VALUES (${product.id}, ${onHand}, 0)
            ON DUPLICATE KEY UPDATE on_hand = VALUES(on_hand), version = version + 1, updated_at = CURRENT_TIMESTAMP(6)`,
      );
      const [saved] = await rows<Product>(
        connection,
        sql`SELECT id, sku, name, category, price, currency, version FROM products WHERE id = ${product.id}`,
      );
      return { ...saved!, version: Number(saved!.version) };
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
