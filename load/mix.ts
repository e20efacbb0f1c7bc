import { ConfigError } from '../core/errors.js';
import type { OrderStatus } from '../orders/model.js';
import { cumulativeOf, weightedIndex } from './random.js';

/**
 * The operations of a load run and what each acts on. Every operation but `create` needs an
 * order of the run in one of its `from` statuses that no other request is working on; when there
 * is none yet, the request is a `create` instead (so early in a run creates exceed their share).
 */
export const OPERATIONS = {
  create: { does: 'POST /api/orders (1–5 lines, products by popularity, Idempotency-Key)', from: [] },
  pay: { does: 'POST /api/payments of the total (Idempotency-Key)', from: ['PENDING'] },
  ship: { does: 'PATCH /api/orders/:id/status SHIPPED', from: ['PAID'] },
  complete: { does: 'PATCH /api/orders/:id/status COMPLETED', from: ['SHIPPED'] },
  cancel: { does: 'POST /api/orders/:id/cancel', from: ['PENDING', 'PAID'] },
  refund: { does: 'PATCH /api/orders/:id/status REFUNDED', from: ['PAID', 'SHIPPED', 'COMPLETED'] },
  delete: { does: 'DELETE /admin/orders/:id with a reason (admin token)', from: ['PENDING', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELLED', 'REFUNDED'] },
  invalid: { does: 'PATCH /api/orders/:id/status SHIPPED on a finished order: must be refused (409)', from: ['COMPLETED', 'CANCELLED', 'REFUNDED'] },
} as const satisfies Record<string, { does: string; from: readonly OrderStatus[] }>;

export type Operation = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];

/** Relative weights of the operations (they need not add up to 100). */
export type Mix = Record<Operation, number>;

/**
 * The default mix, a shop's steady state per 100 requests: of every 100 orders placed about 70
 * are paid, 50 shipped, 40 completed, 11 cancelled, 6 refunded and 3 deleted by an administrator,
 * and a client retries a transition on a finished order now and then (refused).
 */
export const SHOP_MIX: Mix = { create: 35, pay: 24, ship: 18, complete: 14, cancel: 4, refund: 2, delete: 1, invalid: 2 };

/** Order placement only (what the bench's SPEC figures count: orders/s). */
export const ORDERS_MIX: Mix = { create: 1, pay: 0, ship: 0, complete: 0, cancel: 0, refund: 0, delete: 0, invalid: 0 };

export const NAMED_MIXES: Record<string, Mix> = { shop: SHOP_MIX, orders: ORDERS_MIX };

/** `shop`, `orders`, or `name=weight,…` (operations not named weigh 0; `create` must weigh more than 0). */
export function parseMix(text: string): Mix {
  const named = NAMED_MIXES[text];
  if (named) return { ...named };
  const mix = Object.fromEntries(OPERATION_NAMES.map((name) => [name, 0])) as Mix;
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!match) throw new ConfigError(`a mix is ${Object.keys(NAMED_MIXES).join(', ')} or name=weight,… (got "${part}")`);
    const [, name, weight] = match;
    if (!(name! in OPERATIONS)) throw new ConfigError(`unknown operation "${name}" in the mix; operations are ${OPERATION_NAMES.join(', ')}`);
    mix[name as Operation] = Number(weight);
  }
  if (!(mix.create > 0)) throw new ConfigError('the mix needs create > 0: every other operation acts on orders the run created');
  return mix;
}

/** Maps a uniform u in [0, 1) to an operation, each with the probability of its share of the mix. */
export function mixSampler(mix: Mix): (u: number) => Operation {
  const cumulative = cumulativeOf(OPERATION_NAMES.map((name) => mix[name]));
  return (u) => OPERATION_NAMES[weightedIndex(cumulative, u)]!;
}

/** The mix as shares of 1, for the summary and the README. */
export function mixShares(mix: Mix): Record<Operation, number> {
  const total = OPERATION_NAMES.reduce((sum, name) => sum + mix[name], 0);
  return Object.fromEntries(OPERATION_NAMES.map((name) => [name, mix[name] / total])) as Record<Operation, number>;
}
