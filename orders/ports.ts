import type { DomainEvent } from './events.js';
import type { Order, Product, User } from './model.js';

/** Everything one transaction of the write side may do. Implemented by the MySQL adapter. */
export interface OrderUnitOfWork {
  findUser(id: string): Promise<User | undefined>;
  /** Catalog rows for the ids that exist (missing ids are simply absent). */
  findProducts(ids: string[]): Promise<Product[]>;
  /** Reserves `quantity` units when that many are available; false (and nothing changed) when short. */
  reserveStock(productId: string, quantity: number): Promise<boolean>;
  insertOrder(order: Order): Promise<void>;
  insertUser(user: User): Promise<void>;
  /** Inserts or updates a product (bumping its version) and sets its stock on hand. */
  upsertProduct(product: Omit<Product, 'version'>, onHand: number): Promise<Product>;
  /** Appends the event to the outbox; it commits or rolls back with the transaction. */
  appendEvent(event: DomainEvent): Promise<void>;
}

export interface OrderStore {
  /** Runs `work` in one transaction: all its writes and events commit together or not at all. */
  transaction<T>(work: (uow: OrderUnitOfWork) => Promise<T>): Promise<T>;
  getOrder(id: string): Promise<Order | undefined>;
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
