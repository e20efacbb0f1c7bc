import { isCounted, type OrderStatus } from './model.js';

/**
 * Derived records of the analytics pipeline (schemas-avro/shop.orders-enriched.v1 and
 * shop.order-changes.v1). Money is a decimal string, times epoch microseconds. OrderState is the
 * streams' internal state; the records are the load contract, named like the ClickHouse columns.
 */
export interface OrderStateLine {
  lineNo: number;
  productId: string;
  productName: string;
  category: string;
  quantity: number;
  unitPrice: string;
  lineTotal: string;
}

export interface OrderState {
  orderId: string;
  version: number;
  isDeleted: boolean;
  userId: string;
  userName: string;
  status: OrderStatus;
  currency: string;
  totalAmount: string;
  items: OrderStateLine[];
  paymentMethod: string;
  paymentStatus: string;
  createdAt: number;
  updatedAt: number;
  /** Outbox commit time of the change that produced this state. */
  committedAt: number;
}

/** The Avro record OrderEnriched; field names are the ClickHouse `orders` columns. */
export interface OrderEnriched {
  order_id: string;
  version: number;
  is_deleted: boolean;
  user_id: string;
  user_name: string;
  status: string;
  currency: string;
  total_amount: string;
  item_count: number;
  items: { line_no: number; product_id: string; product_name: string; category: string; quantity: number; unit_price: string; line_total: string }[];
  payment_method: string;
  payment_status: string;
  created_at: number;
  updated_at: number;
  committed_at: number;
}

/** The Avro record OrderChange; field names are the ClickHouse `order_changes` columns. */
export interface OrderChange {
  order_id: string;
  version: number;
  sign: -1 | 1;
  counted: boolean;
  is_deleted: boolean;
  user_id: string;
  status: string;
  currency: string;
  total_amount: string;
  payment_method: string;
  created_at: number;
  items: { product_id: string; product_name: string; category: string; quantity: number; line_total: string }[];
  committed_at: number;
}

export function toEnriched(state: OrderState): OrderEnriched {
  return {
    order_id: state.orderId,
    version: state.version,
    is_deleted: state.isDeleted,
    user_id: state.userId,
    user_name: state.userName,
    status: state.status,
    currency: state.currency,
    total_amount: state.totalAmount,
    item_count: state.items.reduce((sum, item) => sum + item.quantity, 0),
    items: state.items.map((item) => ({
      line_no: item.lineNo,
      product_id: item.productId,
      product_name: item.productName,
      category: item.category,
      quantity: item.quantity,
      unit_price: item.unitPrice,
      line_total: item.lineTotal,
    })),
    payment_method: state.paymentMethod,
    payment_status: state.paymentStatus,
    created_at: state.createdAt,
    updated_at: state.updatedAt,
    committed_at: state.committedAt,
  };
}

/**
 * The signed rows for an order moving from `previous` (undefined for a new order) to `next`:
 * the retraction of the previous state, then the addition of the new one. Both carry the new
 * version, so a (orderId, version, sign) triple identifies a row. Sums over sign of counted rows
 * equal the aggregates of the current states, whatever happened in between (SPEC §6).
 */
export function signedChanges(previous: OrderState | undefined, next: OrderState): OrderChange[] {
  const row = (state: OrderState, sign: -1 | 1): OrderChange => ({
    order_id: state.orderId,
    version: next.version,
    sign,
    counted: isCounted(state),
    is_deleted: state.isDeleted,
    user_id: state.userId,
    status: state.status,
    currency: state.currency,
    total_amount: state.totalAmount,
    payment_method: state.paymentMethod,
    created_at: state.createdAt,
    items: state.items.map((item) => ({
      product_id: item.productId,
      product_name: item.productName,
      category: item.category,
      quantity: item.quantity,
      line_total: item.lineTotal,
    })),
    committed_at: next.committedAt,
  });
  return previous ? [row(previous, -1), row(next, 1)] : [row(next, 1)];
}
