import type { AuditEntry } from '../auth/tokens.js';
import type { DomainEvent } from './events.js';
import type { Inventory, Order, OrderStatus, Payment, Product, User } from './model.js';

/**
 * Everything one transaction of the write side may do; implemented by the MySQL adapter. The
 * `lock*` reads take row locks held until the transaction ends, so read-check-write sequences on
 * one aggregate are serialized.
 */
export interface OrderUnitOfWork {
  findUser(id: string): Promise<User | undefined>;
  /** Fails with ConflictError EMAIL_TAKEN when the e-mail is registered already. */
  insertUser(user: User): Promise<void>;

  /** Catalog rows for the ids that exist (missing ids are simply absent). */
  findProducts(ids: string[]): Promise<Product[]>;
  lockProduct(id: string): Promise<Product | undefined>;
  /** Fails with ConflictError SKU_TAKEN when another product has the SKU. */
  saveProduct(product: Product, isNew: boolean): Promise<void>;
  lockInventory(productId: string): Promise<Inventory | undefined>;
  saveInventory(inventory: Inventory, isNew: boolean): Promise<void>;

  /**
   * Reserves stock for every [productId, quantity] line, in one round trip with the rows' new
   * state; each changed row's version grows by one and its updated_at becomes `at`. Returns the
   * first product that is short, or the rows after the change (in line order). On a short
   * product the caller's transaction must roll back (the other lines may have been reserved).
   */
  reserveStock(lines: [string, number][], at: number): Promise<{ short: string } | { stock: Inventory[] }>;
  /** Gives back units reserved by an order that is cancelled, refunded before shipping or deleted (as reserveStock: one round trip, the rows after). */
  releaseStock(lines: [string, number][], at: number): Promise<Inventory[]>;
  /** Units of a shipped order leave the warehouse: on hand and reserved both drop (as releaseStock). */
  shipStock(lines: [string, number][], at: number): Promise<Inventory[]>;

  insertOrder(order: Order): Promise<void>;
  /** The order with its items, deleted or not, locked for update. */
  lockOrder(id: string): Promise<Order | undefined>;
  /** Writes status, version, updated_at and deletion of an order. */
  updateOrder(order: Order): Promise<void>;

  insertPayment(payment: Payment): Promise<void>;

  /**
   * Claims an Idempotency-Key in its scope for this transaction. When another request holds the
   * key and has committed, returns what it stored; a concurrent holder makes this call wait for
   * its outcome.
   */
  claimIdempotencyKey(key: IdempotencyKey, requestHash: string): Promise<{ claimed: true } | { claimed: false; requestHash: string; response: string }>;
  completeIdempotencyKey(key: IdempotencyKey, response: string): Promise<void>;

  /** Appends the event to the outbox; it commits or rolls back with the transaction. */
  appendEvent(event: DomainEvent): Promise<void>;

  /**
   * Appends the audit row of the admin call this transaction carries out; it commits or rolls
   * back with the transaction, so no admin change commits without its row (nor a row without it).
   */
  appendAudit(entry: AuditEntry): Promise<void>;
}

/**
 * An Idempotency-Key with its scope: the same key sent to another route or by another client is
 * another key, so clients cannot collide with (or replay) each other's requests.
 */
export interface IdempotencyKey {
  /** The operation, e.g. 'POST /api/orders'. */
  route: string;
  /** Who sent it, as the API identifies clients (e.g. 'ip:203.0.113.7'). */
  client: string;
  key: string;
}

/** Housekeeping of stored Idempotency-Keys. */
export interface IdempotencyKeyStore {
  /** Deletes up to `limit` keys stored longer than `retentionMs` ago, oldest first; returns how many. */
  purgeIdempotencyKeys(retentionMs: number, limit: number): Promise<number>;
}

export interface OrderPageQuery {
  userId?: string;
  status?: OrderStatus;
  limit: number;
  /** Continue after this (createdAt, id) position of the newest-first order. */
  after?: { createdAt: number; id: string };
}

/** Reads of the write side; soft-deleted orders are never returned. */
export interface OrderReads {
  getOrder(id: string): Promise<Order | undefined>;
  listOrders(query: OrderPageQuery): Promise<Order[]>;
  getPayment(orderId: string): Promise<Payment | undefined>;
  listProducts(query: { limit: number; afterId?: string; category?: string }): Promise<Product[]>;
  getProduct(id: string): Promise<Product | undefined>;
  getInventory(productId: string): Promise<Inventory | undefined>;
  getUser(id: string): Promise<User | undefined>;
}

export interface OrderStore extends OrderReads {
  /** Runs `work` in one transaction: all its writes and events commit together or not at all. */
  transaction<T>(work: (uow: OrderUnitOfWork) => Promise<T>): Promise<T>;
}

/** Told after a transaction holding outbox rows committed, so the relay can publish at once. */
export interface OutboxSignal {
  notify(): void;
}

export interface Clock {
  /** Microseconds since the epoch, UTC. */
  nowMicros(): number;
}

export interface IdGenerator {
  uuid(): string;
}
