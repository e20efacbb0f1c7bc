import { createLogger, type Logger } from '../core/log.js';
import { registerUser } from '../orders/catalog-service.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import type { Order, PaymentMethod } from '../orders/model.js';
import type { OrderStore, OrderUnitOfWork } from '../orders/ports.js';
import { capturePayment, changeOrderStatus, placeOrder } from '../orders/order-service.js';
import { demoCustomers, DEMO_PRODUCTS, PRODUCT_POPULARITY, SEEDED_USERS } from './people.js';
import { seededRandom, type Random } from './random.js';

export interface DemoHistoryOptions {
  /** Days of history, today (up to now) included. Default 21. */
  days: number;
  /** Orders on an average day (weekends more, a slow upward trend). Default 18. */
  ordersPerDay: number;
  /** Customers registered besides the seeded demo users. Default 30. */
  customers: number;
  /**
   * Orders whose steps share one transaction (one commit, not one per step: commits are what
   * a fresh database spends its time on). Default 50.
   */
  ordersPerTransaction: number;
  /** Seed of the pseudo-random plan: the same seed and clock give the same history. Default 13. */
  seed: number;
  /** Wall clock, epoch ms: history ends just before it. */
  now: () => number;
  logger: Logger;
}

export const DEFAULT_DEMO_HISTORY_OPTIONS: DemoHistoryOptions = {
  days: 21,
  ordersPerDay: 18,
  customers: 30,
  ordersPerTransaction: 50,
  seed: 13,
  now: () => Date.now(),
  logger: createLogger('demo'),
};

export type Step = { at: number } & (
  | { action: 'place' }
  | { action: 'pay'; method: PaymentMethod }
  | { action: 'status'; status: 'SHIPPED' | 'COMPLETED' | 'CANCELLED' | 'REFUNDED' }
);

export interface PlannedOrder {
  userId: string;
  items: { productId: string; quantity: number }[];
  /** In time order, every `at` (epoch µs) in the past; the first places the order. */
  steps: Step[];
}

const MINUTE = 60_000_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Relative orders per UTC hour: a quiet night, a lunch peak and an evening peak. */
const HOURLY = [2, 1, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 9, 8, 7, 7, 7, 8, 9, 11, 12, 10, 7, 4];
/** Relative orders per weekday, Sunday first. */
const WEEKDAY = [1.3, 0.85, 0.9, 0.95, 1, 1.1, 1.35];
const METHODS: PaymentMethod[] = ['CARD', 'PAYPAL', 'APPLE_PAY', 'GOOGLE_PAY', 'BANK_TRANSFER'];
const METHOD_SHARE = [55, 20, 10, 8, 7];

/**
 * The orders of the demo history (pure): `days` UTC days up to `nowMs`, each order with its
 * lifecycle (paid minutes after it was placed, shipped within a day and a half, completed days
 * later; a few cancelled or refunded), every step before `nowMs`, in time order per order.
 */
export function planHistory(options: Pick<DemoHistoryOptions, 'days' | 'ordersPerDay' | 'customers' | 'seed'>, nowMs: number): PlannedOrder[] {
  const random = seededRandom(options.seed);
  const now = nowMs * 1000;
  const users = [...SEEDED_USERS, ...demoCustomers(options.customers).map((c) => c.id)];
  // Some customers buy far more often than others.
  const loyalty = users.map(() => 1 + random.int(0, 6) * random.next());
  const firstDay = Math.floor(now / DAY) - (options.days - 1);
  const orders: PlannedOrder[] = [];
  for (let day = firstDay; day * DAY < now; day++) {
    const trend = 0.8 + (0.35 * (day - firstDay)) / Math.max(1, options.days - 1);
    const weekday = new Date((day * DAY) / 1000).getUTCDay();
    const count = Math.round(options.ordersPerDay * trend * WEEKDAY[weekday]! * (0.85 + 0.3 * random.next()));
    for (let i = 0; i < count; i++) {
      const at = day * DAY + random.weighted(HOURLY) * HOUR + Math.floor(random.next() * HOUR);
      // The last minute is left to the live traffic; hours not yet come are not ordered in.
      if (at >= now - MINUTE) continue;
      orders.push({ userId: users[random.weighted(loyalty)]!, items: basket(random), steps: lifecycle(random, at, now) });
    }
  }
  return orders.sort((a, b) => a.steps[0]!.at - b.steps[0]!.at);
}

function basket(random: Random): PlannedOrder['items'] {
  const lines = random.weighted([60, 28, 12]) + 1;
  const chosen = new Set<string>();
  while (chosen.size < lines) chosen.add(DEMO_PRODUCTS[random.weighted(PRODUCT_POPULARITY)]!);
  return [...chosen].map((productId) => ({ productId, quantity: random.weighted([70, 20, 7, 3]) + 1 }));
}

function lifecycle(random: Random, placedAt: number, now: number): Step[] {
  const steps: Step[] = [{ at: placedAt, action: 'place' }];
  const next = (after: number, minMicros: number, maxMicros: number) => after + minMicros + Math.floor(random.next() * (maxMicros - minMicros));
  const add = (step: Step) => (step.at < now ? (steps.push(step), true) : false);
  if (random.chance(0.07)) {
    add({ at: next(placedAt, 30 * MINUTE, 3 * HOUR), action: 'status', status: 'CANCELLED' });
    return steps;
  }
  const paidAt = next(placedAt, MINUTE, 20 * MINUTE);
  if (!add({ at: paidAt, action: 'pay', method: METHODS[random.weighted(METHOD_SHARE)]! })) return steps;
  if (random.chance(0.02)) {
    add({ at: next(paidAt, HOUR, 5 * HOUR), action: 'status', status: 'CANCELLED' });
    return steps;
  }
  const shippedAt = next(paidAt, 6 * HOUR, 36 * HOUR);
  if (!add({ at: shippedAt, action: 'status', status: 'SHIPPED' })) return steps;
  const completedAt = next(shippedAt, DAY, 4 * DAY);
  const completed = add({ at: completedAt, action: 'status', status: 'COMPLETED' });
  if (random.chance(0.03)) add({ at: next(completed ? completedAt : shippedAt, DAY, 3 * DAY), action: 'status', status: 'REFUNDED' });
  return steps;
}

/** At a fixed time: the steps of the history are written with the times they happened at. */
const at = (deps: OrderServiceDeps, micros: number): OrderServiceDeps => ({ ...deps, clock: { nowMicros: () => micros } });

/**
 * Runs `work`'s domain writes in one transaction of `deps.store` (each write's statements and
 * outbox events as they would be on their own, committed together), then wakes the relay.
 */
async function inOneTransaction(deps: OrderServiceDeps, work: (deps: OrderServiceDeps) => Promise<void>): Promise<void> {
  await deps.store.transaction(async (uow) => {
    const store: OrderStore = Object.assign(Object.create(deps.store) as OrderStore, { transaction: <T>(inner: (u: OrderUnitOfWork) => Promise<T>) => inner(uow) });
    await work({ ...deps, store, signal: undefined });
  });
  deps.signal?.notify();
}

/**
 * Writes the demo history through the domain (each step with its outbox events, so it flows
 * relay → Kafka → streams → ClickHouse like any order; `ordersPerTransaction` orders' steps per
 * commit), with the times of the plan as the orders' created and updated times. Registers the demo customers first (their
 * accounts predate the history). Assumes the demo catalog and users exist and no order does
 * (see `seedDemo`); not resumable: an interrupted run leaves part of the history.
 */
export async function seedDemoHistory(deps: OrderServiceDeps, options: Partial<DemoHistoryOptions> = {}): Promise<{ orders: number; customers: number; writes: number; ms: number }> {
  const { logger, now, ordersPerTransaction, ...plan } = { ...DEFAULT_DEMO_HISTORY_OPTIONS, ...options };
  const started = performance.now();
  const nowMs = now();
  const customers = demoCustomers(plan.customers);
  const registeredAt = (nowMs - (plan.days + 30) * 86_400_000) * 1000;
  await inOneTransaction(deps, async (batch) => {
    for (const [i, customer] of customers.entries()) await registerUser(at(batch, registeredAt + i * MINUTE), customer);
  });
  const orders = planHistory(plan, nowMs);
  let writes = 0;
  // One transaction at a time: two would lock the same stock rows in different orders.
  for (let first = 0; first < orders.length; first += Math.max(1, ordersPerTransaction)) {
    await inOneTransaction(deps, async (batch) => {
      for (const order of orders.slice(first, first + Math.max(1, ordersPerTransaction))) {
        let placed: Order | undefined;
        for (const step of order.steps) {
          const stepDeps = at(batch, step.at);
          if (step.action === 'place') placed = (await placeOrder(stepDeps, { userId: order.userId, items: order.items })).order;
          else if (step.action === 'pay') await capturePayment(stepDeps, { orderId: placed!.id, method: step.method, amount: placed!.totalAmount });
          else await changeOrderStatus(stepDeps, { orderId: placed!.id, status: step.status });
          writes++;
        }
      }
    });
  }
  const ms = Math.round(performance.now() - started);
  logger.info('wrote the demo order history', { days: plan.days, orders: orders.length, customers: customers.length, writes, ms });
  return { orders: orders.length, customers: customers.length, writes, ms };
}
