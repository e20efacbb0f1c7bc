import { createProduct, registerUser } from './catalog-service.js';
import type { OrderServiceDeps } from './deps.js';
import type { Product, User } from './model.js';

const CATALOG: [string, string, string, string][] = [
  ['KB-001', 'Mechanical keyboard', 'Peripherals', '89.90'],
  ['MS-002', 'Wireless mouse', 'Peripherals', '34.50'],
  ['MN-003', '27" 4K monitor', 'Displays', '329.00'],
  ['MN-004', '24" office monitor', 'Displays', '149.99'],
  ['HD-005', 'Noise-cancelling headphones', 'Audio', '199.00'],
  ['SP-006', 'Bluetooth speaker', 'Audio', '59.95'],
  ['CB-007', 'USB-C cable 2 m', 'Accessories', '12.99'],
  ['DK-008', 'USB-C dock', 'Accessories', '119.00'],
  ['LP-009', 'Laptop stand', 'Accessories', '45.00'],
  ['WC-010', '1080p webcam', 'Peripherals', '69.00'],
];

const USERS: [string, string][] = [
  ['ada@example.com', 'Ada Lovelace'],
  ['alan@example.com', 'Alan Turing'],
  ['grace@example.com', 'Grace Hopper'],
  ['edsger@example.com', 'Edsger Dijkstra'],
  ['barbara@example.com', 'Barbara Liskov'],
];

/**
 * The demo catalog and users, written through the domain (so each writes its outbox event).
 * Ids are fixed (products 00000000-0000-4000-8000-00000000000N, users
 * 10000000-0000-4000-8000-00000000000N), so examples can name them.
 */
export async function seedDemoData(deps: OrderServiceDeps, stock = 1_000_000): Promise<{ users: User[]; products: Product[] }> {
  const products: Product[] = [];
  for (const [index, [sku, name, category, price]] of CATALOG.entries()) {
    const id = `00000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
    products.push((await createProduct(deps, { id, sku, name, category, price, currency: 'USD', initialStock: stock })).product);
  }
  const users: User[] = [];
  for (const [index, [email, name]] of USERS.entries()) {
    const id = `10000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
    users.push(await registerUser(deps, { id, email, name }));
  }
  return { users, products };
}
