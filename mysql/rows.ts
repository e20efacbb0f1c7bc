import sql, { join, type Sql } from 'sql-template-tag';
import { sqlTimeToMicros } from '../core/time.js';
import type { Inventory, Order, OrderStatus, Payment, PaymentMethod, Product, User } from '../orders/model.js';

/** Rows of the write side's tables as the domain's objects (DECIMAL and DATETIME arrive as strings). */
export interface OrderRow {
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
export interface ItemRow {
  order_id: string;
  line_no: number;
  product_id: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}

export const ORDER_COLUMNS = sql`id, user_id, status, total_amount, currency, version, created_at, updated_at, deleted_at, deleted_by, delete_reason`;
export const PRODUCT_COLUMNS = sql`id, sku, name, category, price, currency, version`;

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

export function itemsOf(orderIds: string[]): Sql {
  return sql`SELECT order_id, line_no, product_id, quantity, unit_price, line_total FROM order_items
             WHERE order_id IN (${join(orderIds)}) ORDER BY order_id, line_no`;
}

export function assemble(orderRows: OrderRow[], items: ItemRow[]): Order[] {
  const byOrder = new Map<string, ItemRow[]>();
  for (const item of items) byOrder.set(item.order_id, [...(byOrder.get(item.order_id) ?? []), item]);
  return orderRows.map((row) => toOrder(row, byOrder.get(row.id) ?? []));
}

export const toProduct = (row: Product): Product => ({ ...row, version: Number(row.version) });
export interface UserRow {
  id: string;
  email: string;
  name: string;
  version: number;
  created_at: string;
}
export const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  version: Number(row.version),
  createdAt: sqlTimeToMicros(row.created_at),
});
export interface InventoryRow {
  product_id: string;
  on_hand: number;
  reserved: number;
  version: number;
  updated_at: string;
}
export const toInventory = (row: InventoryRow): Inventory => ({
  productId: row.product_id,
  onHand: Number(row.on_hand),
  reserved: Number(row.reserved),
  version: Number(row.version),
  updatedAt: sqlTimeToMicros(row.updated_at),
});

export const USER_COLUMNS = sql`id, email, name, version, created_at`;
export const INVENTORY_COLUMNS = sql`product_id, on_hand, reserved, version, updated_at`;
export const PAYMENT_COLUMNS = sql`id, order_id, method, status, amount, currency, version, created_at`;

export interface PaymentRow {
  id: string;
  order_id: string;
  method: PaymentMethod;
  status: 'CAPTURED';
  amount: string;
  currency: string;
  version: number;
  created_at: string;
}

export const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  orderId: row.order_id,
  method: row.method,
  status: row.status,
  amount: row.amount,
  currency: row.currency,
  version: Number(row.version),
  createdAt: sqlTimeToMicros(row.created_at),
});
