import { z } from 'zod';
import { microsToIso } from '../core/time.js';
import type { Inventory, Order, Payment, Product, User } from '../orders/model.js';
import { money, orderStatus, uuid } from './schemas.js';

/** Response shapes (for the OpenAPI document) and the mappings from the domain. */
const timestamp = z.iso.datetime({ offset: true }).describe('UTC, microsecond precision');

export const orderView = z.object({
  id: uuid,
  userId: uuid,
  status: orderStatus,
  totalAmount: money,
  currency: z.string(),
  version: z.int(),
  items: z.array(z.object({ lineNo: z.int(), productId: uuid, quantity: z.int(), unitPrice: money, lineTotal: money })),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const orderPage = z.object({ items: z.array(orderView), nextCursor: z.string().nullable() });
export const paymentView = z.object({ id: uuid, orderId: uuid, method: z.string(), status: z.string(), amount: money, currency: z.string(), createdAt: timestamp });
export const productView = z.object({ id: uuid, sku: z.string(), name: z.string(), category: z.string(), price: money, currency: z.string(), version: z.int() });
export const productPage = z.object({ items: z.array(productView), nextCursor: z.string().nullable() });
export const inventoryView = z.object({ productId: uuid, onHand: z.int(), reserved: z.int(), available: z.int(), version: z.int(), updatedAt: timestamp });
export const userView = z.object({ id: uuid, email: z.string(), name: z.string(), createdAt: timestamp });
export const problemView = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  instance: z.string(),
});

export const toOrderView = (order: Order): z.infer<typeof orderView> => ({
  id: order.id,
  userId: order.userId,
  status: order.status,
  totalAmount: order.totalAmount,
  currency: order.currency,
  version: order.version,
  items: order.items,
  createdAt: microsToIso(order.createdAt),
  updatedAt: microsToIso(order.updatedAt),
});
export const toPaymentView = (payment: Payment) => ({
  id: payment.id,
  orderId: payment.orderId,
  method: payment.method,
  status: payment.status,
  amount: payment.amount,
  currency: payment.currency,
  createdAt: microsToIso(payment.createdAt),
});
export const toProductView = (product: Product) => ({ ...product });
export const toInventoryView = (inventory: Inventory) => ({
  productId: inventory.productId,
  onHand: inventory.onHand,
  reserved: inventory.reserved,
  available: inventory.onHand - inventory.reserved,
  version: inventory.version,
  updatedAt: microsToIso(inventory.updatedAt),
});
export const toUserView = (user: User) => ({ id: user.id, email: user.email, name: user.name, createdAt: microsToIso(user.createdAt) });

/** The ETag of an order is its version; clients send it back in If-Match. */
export const orderEtag = (order: Order) => `"${order.version}"`;

/** Opaque keyset cursors. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}
export function decodeCursor<T>(cursor: string | undefined, check: (value: unknown) => value is T): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    /* fall through */
  }
  return undefined;
}
