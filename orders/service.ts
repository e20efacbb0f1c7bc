import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { orderCreated, productUpserted, userRegistered } from './events.js';
import { multiplyMoney, sumMoney } from './money.js';
import type { Order, OrderLine, Product, User } from './model.js';
import type { Clock, IdGenerator, OrderStore, OutboxSignal } from './ports.js';

export interface OrderServiceDeps {
  store: OrderStore;
  clock?: Clock;
  ids?: IdGenerator;
  /** Woken after each committed write (the in-process relay). */
  signal?: OutboxSignal;
}

export const systemClock: Clock = {
  nowMicros: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
};
export const randomIds: IdGenerator = { uuid: () => randomUUID() };

export interface PlaceOrderCommand {
  userId: string;
  items: { productId: string; quantity: number }[];
}

/**
 * Places an order: prices come from the catalog, the total is computed exactly, stock is
 * reserved (a conflict when short), and the order, its lines and one OrderCreated event commit
 * in one transaction. Lines reserve stock in product-id order so concurrent orders cannot deadlock.
 */
export async function placeOrder(deps: OrderServiceDeps, command: PlaceOrderCommand): Promise<Order> {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? randomIds;
  const order = await deps.store.transaction(async (uow) => {
    if (!(await uow.findUser(command.userId))) throw new NotFoundError('user', command.userId, 'USER_NOT_FOUND');
    const productIds = [...new Set(command.items.map((item) => item.productId))];
    const products = new Map((await uow.findProducts(productIds)).map((product) => [product.id, product]));
    const missing = command.items.findIndex((item) => !products.has(item.productId));
    if (missing >= 0) {
      throw new ValidationError('an item names a product that does not exist', [
        { field: `/items/${missing}/productId`, message: `no product ${command.items[missing]!.productId}` },
      ]);
    }
    const currencies = new Set(productIds.map((id) => products.get(id)!.currency));
    if (currencies.size > 1) throw new ValidationError('all items of an order must share one currency', [{ field: '/items', message: 'mixed currencies' }]);

    const needed = new Map<string, number>();
    for (const item of command.items) needed.set(item.productId, (needed.get(item.productId) ?? 0) + item.quantity);
    for (const productId of [...needed.keys()].sort()) {
      if (!(await uow.reserveStock(productId, needed.get(productId)!))) {
        throw new ConflictError('INSUFFICIENT_STOCK', `not enough stock of product ${productId}`);
      }
    }

    const items: OrderLine[] = command.items.map((item, index) => {
      const unitPrice = products.get(item.productId)!.price;
      return { lineNo: index + 1, productId: item.productId, quantity: item.quantity, unitPrice, lineTotal: multiplyMoney(unitPrice, item.quantity) };
    });
    const now = clock.nowMicros();
    const created: Order = {
      id: ids.uuid(),
      userId: command.userId,
      status: 'PENDING',
      totalAmount: sumMoney(items.map((item) => item.lineTotal)),
      currency: [...currencies][0]!,
      version: 1,
      createdAt: now,
      updatedAt: now,
      items,
    };
    await uow.insertOrder(created);
    await uow.appendEvent(orderCreated(ids.uuid(), created));
    return created;
  });
  deps.signal?.notify();
  return order;
}

export async function getOrder(deps: OrderServiceDeps, id: string): Promise<Order> {
  const order = await deps.store.getOrder(id);
  if (!order) throw new NotFoundError('order', id, 'ORDER_NOT_FOUND');
  return order;
}

export async function registerUser(deps: OrderServiceDeps, input: { email: string; name: string; id?: string }): Promise<User> {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? randomIds;
  const user = await deps.store.transaction(async (uow) => {
    const created: User = { id: input.id ?? ids.uuid(), email: input.email, name: input.name, version: 1, createdAt: clock.nowMicros() };
    await uow.insertUser(created);
    await uow.appendEvent(userRegistered(ids.uuid(), created));
    return created;
  });
  deps.signal?.notify();
  return user;
}

/** Creates or updates a catalog product with its stock on hand; emits ProductUpserted. */
export async function upsertProduct(deps: OrderServiceDeps, input: Omit<Product, 'version'>, onHand: number): Promise<Product> {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? randomIds;
  const product = await deps.store.transaction(async (uow) => {
    const saved = await uow.upsertProduct(input, onHand);
    await uow.appendEvent(productUpserted(ids.uuid(), saved, clock.nowMicros()));
    return saved;
  });
  deps.signal?.notify();
  return product;
}
