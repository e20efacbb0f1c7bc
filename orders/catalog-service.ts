import type { AuditEntry } from '../auth/tokens.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../core/errors.js';
import { inventoryAdjusted, productUpserted, userRegistered } from './events.js';
import { MAX_STOCK, type Inventory, type Product, type User } from './model.js';
import { write, type OrderServiceDeps } from './deps.js';

/** Registers a user (EMAIL_TAKEN when the e-mail exists); emits UserRegistered. */
export function registerUser(deps: OrderServiceDeps, input: { email: string; name: string; id?: string }): Promise<User> {
  return write(deps, async (uow, { now, uuid }) => {
    const user: User = { id: input.id ?? uuid(), email: input.email, name: input.name, version: 1, createdAt: now };
    await uow.insertUser(user);
    await uow.appendEvent(userRegistered(uuid(), user));
    return user;
  });
}

export interface NewProduct {
  id?: string;
  sku: string;
  name: string;
  category: string;
  price: string;
  currency: string;
  initialStock: number;
}

/**
 * Creates a catalog product and its stock: two aggregates, so two events (ProductUpserted and
 * InventoryAdjusted), in one transaction. SKU_TAKEN when the SKU exists.
 *
 * The catalog changes here take the `audit` row of the admin call they carry out, if any: it
 * commits with the change (seeding and tests change the catalog without an admin call).
 */
export function createProduct(deps: OrderServiceDeps, input: NewProduct, audit?: AuditEntry): Promise<{ product: Product; inventory: Inventory }> {
  return write(deps, async (uow, { now, uuid }) => {
    const product: Product = { id: input.id ?? uuid(), sku: input.sku, name: input.name, category: input.category, price: input.price, currency: input.currency, version: 1 };
    if (input.id !== undefined && (await uow.lockProduct(input.id))) throw new ConflictError('PRODUCT_EXISTS', `product ${input.id} exists already`);
    await uow.saveProduct(product, true);
    const inventory: Inventory = { productId: product.id, onHand: input.initialStock, reserved: 0, version: 1, updatedAt: now };
    await uow.saveInventory(inventory, true);
    await uow.appendEvent(productUpserted(uuid(), product, now));
    await uow.appendEvent(inventoryAdjusted(uuid(), inventory, { cause: 'CREATED', delta: input.initialStock, reason: 'initial stock' }));
    if (audit) await uow.appendAudit(audit);
    return { product, inventory };
  });
}

export interface ProductChange {
  productId: string;
  price?: string;
  name?: string;
  category?: string;
}

/**
 * Changes a product's catalog price, name or category; emits ProductUpserted with its full new
 * state. Orders already placed keep their prices, and their analytics rows keep the names their
 * versions were enriched with (like an invoice's lines); the analytics' product views (top
 * products) show the catalog's current name.
 */
export function updateProduct(deps: OrderServiceDeps, input: ProductChange, audit?: AuditEntry): Promise<Product> {
  return write(deps, async (uow, { now, uuid }) => {
    const product = await uow.lockProduct(input.productId);
    if (!product) throw new NotFoundError('product', input.productId, 'PRODUCT_NOT_FOUND');
    const next: Product = {
      ...product,
      price: input.price ?? product.price,
      name: input.name ?? product.name,
      category: input.category ?? product.category,
      version: product.version + 1,
    };
    await uow.saveProduct(next, false);
    await uow.appendEvent(productUpserted(uuid(), next, now));
    if (audit) await uow.appendAudit(audit);
    return next;
  });
}

/**
 * Changes the stock on hand by `delta` or sets it to `onHand`. Stock on hand may not fall below
 * what open orders reserve (STOCK_BELOW_RESERVED) nor exceed MAX_STOCK (STOCK_TOO_LARGE). Emits
 * InventoryAdjusted.
 */
export function adjustInventory(
  deps: OrderServiceDeps,
  input: { productId: string; delta?: number; onHand?: number; reason?: string },
  audit?: AuditEntry,
): Promise<Inventory> {
  return write(deps, async (uow, { now, uuid }) => {
    const inventory = await uow.lockInventory(input.productId);
    if (!inventory) throw new NotFoundError('inventory of product', input.productId, 'PRODUCT_NOT_FOUND');
    const onHand = input.onHand ?? inventory.onHand + (input.delta ?? 0);
    if (onHand > MAX_STOCK) {
      throw new UnprocessableError('STOCK_TOO_LARGE', `stock on hand ${onHand} would exceed the largest stock, ${MAX_STOCK}`, [
        { field: input.onHand === undefined ? '/delta' : '/onHand', message: `on hand may not exceed ${MAX_STOCK}` },
      ]);
    }
    if (onHand < inventory.reserved) {
      throw new ConflictError('STOCK_BELOW_RESERVED', `stock on hand ${onHand} would fall below the ${inventory.reserved} units reserved by open orders`);
    }
    const next: Inventory = { ...inventory, onHand, version: inventory.version + 1, updatedAt: now };
    await uow.saveInventory(next, false);
    await uow.appendEvent(inventoryAdjusted(uuid(), next, { cause: 'ADJUSTED', delta: onHand - inventory.onHand, reason: input.reason ?? null }));
    if (audit) await uow.appendAudit(audit);
    return next;
  });
}

export async function getUser(deps: OrderServiceDeps, id: string): Promise<User> {
  const user = await deps.store.getUser(id);
  if (!user) throw new NotFoundError('user', id, 'USER_NOT_FOUND');
  return user;
}

export async function getProduct(deps: OrderServiceDeps, id: string): Promise<Product> {
  const product = await deps.store.getProduct(id);
  if (!product) throw new NotFoundError('product', id, 'PRODUCT_NOT_FOUND');
  return product;
}

export async function getInventory(deps: OrderServiceDeps, productId: string): Promise<Inventory> {
  const inventory = await deps.store.getInventory(productId);
  if (!inventory) throw new NotFoundError('inventory of product', productId, 'PRODUCT_NOT_FOUND');
  return inventory;
}

export function listProducts(deps: OrderServiceDeps, query: { limit: number; afterId?: string; category?: string }): Promise<Product[]> {
  return deps.store.listProducts(query);
}
