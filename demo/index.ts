import type { OrderServiceDeps } from '../orders/deps.js';
import { seedDemoData } from '../orders/demo-seed.js';
import { DEFAULT_DEMO_HISTORY_OPTIONS, seedDemoHistory, type DemoHistoryOptions } from './history.js';
import { demoCustomers, DEMO_PRODUCTS, SEEDED_USERS } from './people.js';

export { DemoTraffic, DEFAULT_DEMO_TRAFFIC_OPTIONS, type DemoTrafficOptions } from './traffic.js';
export { DEFAULT_DEMO_HISTORY_OPTIONS, planHistory, seedDemoHistory, type DemoHistoryOptions } from './history.js';

export interface DemoSeedResult {
  /** The demo catalog and users were loaded now. */
  catalog: boolean;
  /** The order history written now, if it was. */
  history: { orders: number; customers: number; writes: number; ms: number } | undefined;
  /** The demo users and customers that exist (who the live traffic orders for). */
  customers: string[];
}

/**
 * The demo (`start --seed-demo`): on a database without users, the demo catalog and users
 * (orders/demo-seed.ts); then, while the database holds no order and the demo catalog exists,
 * `history.days` days of order history (demo/history.ts). Run again on a database that has
 * them, it writes nothing.
 */
export async function seedDemo(deps: OrderServiceDeps, options: { databaseWithoutUsers: boolean; history?: Partial<DemoHistoryOptions> }): Promise<DemoSeedResult> {
  if (options.databaseWithoutUsers) await seedDemoData(deps);
  const historyOptions = { ...DEFAULT_DEMO_HISTORY_OPTIONS, ...options.history };
  const customers = demoCustomers(historyOptions.customers);
  const noOrders = (await deps.store.listOrders({ limit: 1 })).length === 0;
  const catalog = (await deps.store.getProduct(DEMO_PRODUCTS[0]!)) !== undefined;
  const unregistered = customers.length === 0 || (await deps.store.getUser(customers[0]!.id)) === undefined;
  const history = noOrders && catalog && unregistered && historyOptions.days > 0 ? await seedDemoHistory(deps, historyOptions) : undefined;
  const present = await Promise.all([...SEEDED_USERS, ...customers.map((c) => c.id)].map(async (id) => ((await deps.store.getUser(id)) ? id : undefined)));
  return { catalog: options.databaseWithoutUsers, history, customers: present.filter((id): id is string => id !== undefined) };
}
