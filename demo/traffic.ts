import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { sleep } from '../core/retry.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import { capturePayment, changeOrderStatus, listOrders, placeOrder } from '../orders/order-service.js';
import { DEMO_PRODUCTS, PRODUCT_POPULARITY } from './people.js';
import { seededRandom } from './random.js';

export interface DemoTrafficOptions {
  /** Mean time between two new orders (exponentially distributed). Default 20,000 ms. */
  meanIntervalMs: number;
  /** Share of new orders paid a moment after they were placed. Default 0.85. */
  paidShare: number;
  /** Seed of its choices. Default: the start time. */
  seed: number;
  logger: Logger;
}

export const DEFAULT_DEMO_TRAFFIC_OPTIONS: DemoTrafficOptions = {
  meanIntervalMs: 20_000,
  paidShare: 0.85,
  seed: Date.now(),
  logger: createLogger('demo.traffic'),
};

/**
 * A light live trickle of orders through the domain, as shoppers would make them: a new order
 * every few seconds for one of `customers`, most of them paid at once; now and then the oldest
 * paid order ships and the oldest shipped one completes. A failed step is logged and skipped.
 *
 * Lifecycle: `start` begins; `stop` ends it after the step in flight.
 */
export class DemoTraffic {
  private readonly options: DemoTrafficOptions;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: OrderServiceDeps,
    private readonly customers: readonly string[],
    options: Partial<DemoTrafficOptions> = {},
  ) {
    this.options = { ...DEFAULT_DEMO_TRAFFIC_OPTIONS, ...options };
  }

  start(): void {
    if (this.customers.length === 0) return;
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const random = seededRandom(this.options.seed);
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await sleep(-Math.log(1 - random.next()) * this.options.meanIntervalMs, signal).catch(() => undefined);
      if (signal.aborted) break;
      try {
        const lines = random.weighted([65, 25, 10]) + 1;
        const products = new Set<string>();
        while (products.size < lines) products.add(DEMO_PRODUCTS[random.weighted(PRODUCT_POPULARITY)]!);
        const userId = this.customers[random.int(0, this.customers.length - 1)]!;
        const { order } = await placeOrder(this.deps, { userId, items: [...products].map((productId) => ({ productId, quantity: random.weighted([75, 18, 7]) + 1 })) });
        if (random.chance(this.options.paidShare)) {
          await capturePayment(this.deps, { orderId: order.id, method: random.chance(0.6) ? 'CARD' : random.chance(0.5) ? 'PAYPAL' : 'APPLE_PAY', amount: order.totalAmount });
        }
        if (random.chance(0.4)) await this.advanceOldest('PAID', 'SHIPPED');
        if (random.chance(0.3)) await this.advanceOldest('SHIPPED', 'COMPLETED');
      } catch (error) {
        this.options.logger.warn('a demo order step failed', { error: errorMessage(error) });
      }
    }
  }

  /** The oldest of the newest orders in `from` (the list is newest first) moves to `to`. */
  private async advanceOldest(from: 'PAID' | 'SHIPPED', to: 'SHIPPED' | 'COMPLETED'): Promise<void> {
    const candidates = await listOrders(this.deps, { status: from, limit: 20 });
    const oldest = candidates.at(-1);
    if (oldest) await changeOrderStatus(this.deps, { orderId: oldest.id, status: to });
  }
}
