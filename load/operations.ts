import { PAYMENT_METHODS, type OrderStatus } from '../orders/model.js';
import { TransportError, type HttpClient, type Reply } from './http.js';
import { OPERATIONS, type Operation } from './mix.js';
import type { OrderBook, TrackedOrder } from './order-book.js';
import { cumulativeOf, weightedIndex } from './random.js';
import type { Shop } from './setup.js';

/**
 * What an answer means for the run. `ok`: accepted. `refused`: the API said no to a well-formed
 * request because of the state it found (404 gone, 409 out of stock / invalid transition /
 * version conflict, 422 amount or key mismatch, 429 over the write limit): a shop's API does
 * that, it is not a failure. `error`: 5xx, no answer at all, or an answer the API must never
 * give (400/401/403/413 to the generator's requests, an invalid transition accepted).
 */
export type Outcome = 'ok' | 'refused' | 'error';

export const REFUSED_STATUSES: ReadonlySet<number> = new Set([404, 409, 422, 429]);

export function classify(status: number, expect: 'accepted' | 'refused' = 'accepted'): Outcome {
  if (status >= 200 && status < 300) return expect === 'accepted' ? 'ok' : 'error';
  if (REFUSED_STATUSES.has(status)) return 'refused';
  return 'error';
}

export interface Performed {
  /** The operation done: the one drawn, or `create` when no order could take it. */
  operation: Operation;
  outcome: Outcome;
  /** `<status> <problem code>` (or the transport error's code) for refusals and errors. */
  label: string | undefined;
  ms: number;
  /** Money moved by an accepted create or payment (decimal string). */
  amount?: string;
}

export interface OperationContext {
  http: HttpClient;
  book: OrderBook;
  shop: Shop;
  random: () => number;
  /** Maps a uniform to a product rank (zipf.ts). */
  product: (u: number) => number;
  adminToken: string;
  runId: string;
}

const LINES = cumulativeOf([55, 25, 12, 5, 3]); // 1…5 lines per order
const QUANTITIES = cumulativeOf([75, 18, 7]); // 1…3 units per line
const METHODS = cumulativeOf([55, 20, 10, 8, 7]);
const METHOD_NAMES = ['CARD', 'PAYPAL', 'APPLE_PAY', 'GOOGLE_PAY', 'BANK_TRANSFER'] as const satisfies readonly (typeof PAYMENT_METHODS)[number][];

/** An order's lines: distinct products drawn by popularity. */
export function orderLines(ctx: Pick<OperationContext, 'random' | 'product' | 'shop'>): { productId: string; quantity: number }[] {
  const wanted = Math.min(1 + weightedIndex(LINES, ctx.random()), ctx.shop.products.length);
  const chosen = new Set<number>();
  for (let tries = 0; chosen.size < wanted && tries < wanted * 10; tries++) chosen.add(ctx.product(ctx.random()));
  return [...chosen].map((rank) => ({ productId: ctx.shop.products[rank]!.id, quantity: 1 + weightedIndex(QUANTITIES, ctx.random()) }));
}

/** Does `drawn` (or a create, when no order is free for it); never rejects. */
export async function perform(ctx: OperationContext, drawn: Operation, index: number): Promise<Performed> {
  const order = drawn === 'create' ? undefined : ctx.book.take(OPERATIONS[drawn].from);
  const operation = order ? drawn : 'create';
  const started = performance.now();
  let reply: Reply;
  try {
    reply = await request(ctx, operation, order, index);
  } catch (error) {
    if (order) ctx.book.lose(order);
    else ctx.book.uncertain++;
    const code = error instanceof TransportError ? error.code : 'CLIENT';
    return { operation, outcome: 'error', label: code, ms: performance.now() - started };
  }
  const ms = performance.now() - started;
  const outcome = classify(reply.status, operation === 'invalid' ? 'refused' : 'accepted');
  const label = outcome === 'ok' ? undefined : reply.status < 300 ? `${reply.status} INVALID_TRANSITION_ACCEPTED` : `${reply.status} ${reply.code ?? ''}`.trim();
  const result: Performed = { operation, outcome, label, ms };
  if (operation === 'create') {
    if (outcome === 'ok') {
      ctx.book.add({ id: reply.body.id, status: reply.body.status, total: reply.body.totalAmount });
      result.amount = reply.body.totalAmount;
    } else if (reply.status >= 500) ctx.book.uncertain++;
    return result;
  }
  const tracked = order!;
  if (outcome === 'ok') {
    if (operation === 'delete') ctx.book.markDeleted(tracked);
    else ctx.book.settle(tracked, TARGET[operation as keyof typeof TARGET]);
    if (operation === 'pay') result.amount = tracked.total;
  } else if (reply.status === 429 || (operation === 'invalid' && reply.status === 409)) ctx.book.release(tracked);
  else if (reply.status >= 500 || reply.status < 300) ctx.book.lose(tracked); // a 5xx, or an invalid transition accepted: state unknown
  else ctx.book.retire(tracked);
  return result;
}

const TARGET = { pay: 'PAID', ship: 'SHIPPED', complete: 'COMPLETED', cancel: 'CANCELLED', refund: 'REFUNDED' } as const satisfies Record<string, OrderStatus>;

function request(ctx: OperationContext, operation: Operation, order: TrackedOrder | undefined, index: number): Promise<Reply> {
  const key = { 'Idempotency-Key': `load-${ctx.runId}-${index}` };
  switch (operation) {
    case 'create': {
      const userId = ctx.shop.users[Math.floor(ctx.random() * ctx.shop.users.length)]!;
      return ctx.http.call('POST', '/api/orders', { userId, items: orderLines(ctx) }, key);
    }
    case 'pay':
      return ctx.http.call('POST', '/api/payments', { orderId: order!.id, method: METHOD_NAMES[weightedIndex(METHODS, ctx.random())], amount: order!.total }, key);
    case 'ship':
    case 'complete':
    case 'refund':
      return ctx.http.call('PATCH', `/api/orders/${order!.id}/status`, { status: TARGET[operation] });
    case 'cancel':
      return ctx.http.call('POST', `/api/orders/${order!.id}/cancel`, { reason: 'customer changed their mind' });
    case 'delete':
      return ctx.http.call('DELETE', `/admin/orders/${order!.id}`, { reason: 'load: test order removed by an administrator' }, { authorization: `Bearer ${ctx.adminToken}` });
    case 'invalid':
      return ctx.http.call('PATCH', `/api/orders/${order!.id}/status`, { status: 'SHIPPED' });
  }
}
