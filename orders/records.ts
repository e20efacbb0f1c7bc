import { isCounted, type OrderStatus } from './model.js';

/**
 * Derived records of the analytics pipeline (schemas-avro/shop.orders-enriched.v1 and
 * shop.order-changes.v1). Money is a decimal string, times epoch microseconds.
 */
export interface OrderState {
  orderId: string;
  version: number;
  isDeleted: boolean;
  userId: string;
  userName: string;
  status: OrderStatus;
  currency: string;
  totalAmount: string;
  items: { productId: string; quantity: number; lineTotal: string }[];
  paymentMethod: string;
  paymentStatus: string;
  createdAt: number;
  updatedAt: number;
  /** Outbox commit time of the change that produced this state. */
  committedAt: number;
}

export interface OrderEnriched {
  orderId: string;
  version: number;
  isDeleted: boolean;
  userId: string;
  userName: string;
  status: string;
  currency: string;
  totalAmount: string;
  itemCount: number;
  paymentMethod: string;
  paymentStatus: string;
  createdAt: number;
  updatedAt: number;
  committedAt: number;
}

export interface OrderChange {
  orderId: string;
  version: number;
  sign: -1 | 1;
  counted: boolean;
  isDeleted: boolean;
  userId: string;
  status: string;
  currency: string;
  totalAmount: string;
  paymentMethod: string;
  createdAt: number;
  items: { productId: string; quantity: number; lineTotal: string }[];
  committedAt: number;
}

export function toEnriched(state: OrderState): OrderEnriched {
  return {
    orderId: state.orderId,
    version: state.version,
    isDeleted: state.isDeleted,
    userId: state.userId,
    userName: state.userName,
    status: state.status,
    currency: state.currency,
    totalAmount: state.totalAmount,
    itemCount: state.items.reduce((sum, item) => sum + item.quantity, 0),
    paymentMethod: state.paymentMethod,
    paymentStatus: state.paymentStatus,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    committedAt: state.committedAt,
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
    orderId: state.orderId,
    version: next.version,
    sign,
    counted: isCounted(state),
    isDeleted: state.isDeleted,
    userId: state.userId,
    status: state.status,
    currency: state.currency,
    totalAmount: state.totalAmount,
    paymentMethod: state.paymentMethod,
    createdAt: state.createdAt,
    items: state.items,
    committedAt: next.committedAt,
  });
  return previous ? [row(previous, -1), row(next, 1)] : [row(next, 1)];
}
