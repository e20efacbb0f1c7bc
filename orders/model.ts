import { ConflictError } from '../core/errors.js';

export const ORDER_STATUSES = ['PENDING', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELLED', 'REFUNDED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The status machine (SPEC §3). Every other transition is a conflict. */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPED', 'CANCELLED', 'REFUNDED'],
  SHIPPED: ['COMPLETED', 'REFUNDED'],
  COMPLETED: ['REFUNDED'],
  CANCELLED: [],
  REFUNDED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new ConflictError('INVALID_TRANSITION', `an order cannot go from ${from} to ${to}`);
  }
}

/** A counted order contributes to sales (SPEC §6): not deleted and not cancelled or refunded. */
export function isCounted(state: { status: OrderStatus; isDeleted: boolean }): boolean {
  return !state.isDeleted && state.status !== 'CANCELLED' && state.status !== 'REFUNDED';
}

export interface OrderLine {
  lineNo: number;
  productId: string;
  quantity: number;
  /** Catalog price when the order was placed. */
  unitPrice: string;
  lineTotal: string;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  totalAmount: string;
  currency: string;
  version: number;
  /** Microseconds since the epoch, UTC. */
  createdAt: number;
  updatedAt: number;
  items: OrderLine[];
  /** Set when an administrator soft-deleted the order; deleted orders are hidden from reads. */
  deletion?: { at: number; by: string; reason: string };
}

/** Orders whose stock is still reserved (not yet shipped, cancelled or refunded). */
export function holdsReservation(status: OrderStatus): boolean {
  return status === 'PENDING' || status === 'PAID';
}

export const PAYMENT_METHODS = ['CARD', 'PAYPAL', 'BANK_TRANSFER', 'APPLE_PAY', 'GOOGLE_PAY'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export interface Payment {
  id: string;
  orderId: string;
  method: PaymentMethod;
  status: 'CAPTURED';
  amount: string;
  currency: string;
  version: number;
  createdAt: number;
}

/** The most units of one product on hand (well inside the INT columns, whatever deltas add up to). */
export const MAX_STOCK = 10_000_000;

export interface Inventory {
  productId: string;
  /** Units in stock. */
  onHand: number;
  /** Units promised to open (PENDING or PAID) orders. */
  reserved: number;
  /** Grows by one on every change of the row: adjustments and the reservations, releases and shipments of orders. */
  version: number;
  updatedAt: number;
}

export interface Product {
  id: string;
  sku: string;
  name: string;
  category: string;
  price: string;
  currency: string;
  version: number;
}

export interface User {
  id: string;
  email: string;
  name: string;
  version: number;
  createdAt: number;
}
