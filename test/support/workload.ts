import { createProduct, registerUser } from '../../orders/catalog-service.js';
import type { OrderServiceDeps } from '../../orders/deps.js';
import { PAYMENT_METHODS, type OrderStatus } from '../../orders/model.js';
import { capturePayment, changeOrderStatus, deleteOrder, placeOrder } from '../../orders/order-service.js';
import { ShopstreamError } from '../../core/errors.js';

/** A deterministic pseudo-random sequence (LCG), so a failing workload can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Tracked {
  id: string;
  status: OrderStatus;
  total: string;
  deleted: boolean;
  busy: boolean;
}

export interface WorkloadResult {
  operations: number;
  refused: number;
  orders: number;
  users: string[];
}

/**
 * Thousands of operations through the domain's write path (the API's own code): orders created
 * across `days` past days and many users, payments, shipments, completions, cancellations,
 * refunds, admin deletes, and invalid transitions that must be refused. `concurrency` operations
 * run at once, never two on the same order.
 */
export async function runWorkload(
  deps: OrderServiceDeps,
  options: {
    operations: number;
    seed: number;
    days: number;
    concurrency: number;
    /** Called once at every `progressEvery` operations (one call at a time; the others keep working). */
    onProgress?: (mark: number) => Promise<void> | void;
    progressEvery?: number;
  },
): Promise<WorkloadResult> {
  const random = seeded(options.seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const users: { id: string }[] = [];
  for (let i = 0; i < 25; i++) users.push(await registerUser(deps, { email: `w${options.seed}-${i}@workload.test`, name: `Worker ${i}` }));
  const products: { id: string }[] = [];
  for (let i = 0; i < 15; i++) {
    const price = `${1 + Math.floor(random() * 300)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
    products.push((await createProduct(deps, { sku: `W${options.seed}-${i}`, name: `Item ${i}`, category: `Cat ${i % 4}`, price, currency: 'USD', initialStock: 1_000_000 })).product);
  }
  const orders: Tracked[] = [];
  const now = Date.now();
  const clockAt = (micros: number) => ({ ...deps, clock: { nowMicros: () => micros } });
  const pastMicros = () => (now - Math.floor(random() * options.days * 86_400_000)) * 1000;
  let refused = 0;
  let done = 0;

  const operation = async () => {
    const roll = random();
    const free = (statuses: OrderStatus[]) => orders.filter((o) => !o.busy && !o.deleted && statuses.includes(o.status));
    const act = async (order: Tracked | undefined, work: (o: Tracked) => Promise<void>) => {
      if (!order) return;
      order.busy = true;
      try {
        await work(order);
      } finally {
        order.busy = false;
      }
    };
    if (roll < 0.4 || orders.length < 20) {
      const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ productId: pick(products).id, quantity: 1 + Math.floor(random() * 4) }));
      const { order } = await placeOrder(clockAt(pastMicros()), { userId: pick(users).id, items });
      orders.push({ id: order.id, status: 'PENDING', total: order.totalAmount, deleted: false, busy: false });
    } else if (roll < 0.58) {
      const candidates = free(['PENDING']);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        await capturePayment(deps, { orderId: o.id, method: pick([...PAYMENT_METHODS]), amount: o.total });
        o.status = 'PAID';
      });
    } else if (roll < 0.7) {
      const candidates = free(['PAID', 'SHIPPED']);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        const next = o.status === 'PAID' ? 'SHIPPED' : 'COMPLETED';
        await changeOrderStatus(deps, { orderId: o.id, status: next });
        o.status = next;
      });
    } else if (roll < 0.8) {
      const candidates = free(['PENDING', 'PAID']);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        await changeOrderStatus(deps, { orderId: o.id, status: 'CANCELLED', reason: 'workload' });
        o.status = 'CANCELLED';
      });
    } else if (roll < 0.88) {
      const candidates = free(['PAID', 'SHIPPED', 'COMPLETED']);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        await changeOrderStatus(deps, { orderId: o.id, status: 'REFUNDED' });
        o.status = 'REFUNDED';
      });
    } else if (roll < 0.95) {
      const candidates = orders.filter((o) => !o.busy && !o.deleted);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        await deleteOrder(deps, { orderId: o.id, actor: 'workload-admin', reason: 'workload delete' });
        o.deleted = true;
      });
    } else {
      // An invalid transition: refused, and nothing may change.
      const candidates = free(['CANCELLED', 'REFUNDED', 'COMPLETED']);
      await act(candidates.length ? pick(candidates) : undefined, async (o) => {
        try {
          await changeOrderStatus(deps, { orderId: o.id, status: 'SHIPPED' });
          throw new Error(`invalid transition ${o.status} → SHIPPED was accepted`);
        } catch (error) {
          if (!(error instanceof ShopstreamError) || error.code !== 'INVALID_TRANSITION') throw error;
          refused++;
        }
      });
    }
    done++;
  };

  const every = options.progressEvery ?? 250;
  let nextMark = every;
  let progress: Promise<void> = Promise.resolve();
  const workers = Array.from({ length: options.concurrency }, async () => {
    while (done < options.operations) {
      await operation();
      if (options.onProgress && done >= nextMark && nextMark < options.operations) {
        const mark = nextMark;
        nextMark += every;
        progress = progress.then(() => options.onProgress!(mark));
        await progress;
      }
    }
  });
  await Promise.all(workers);
  return { operations: done, refused, orders: orders.length, users: users.map((u) => u.id) };
}
