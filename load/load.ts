import { sleep } from '../core/retry.js';
import { fromCents, toCents } from '../orders/money.js';
import type { OrderStatus } from '../orders/model.js';
import { httpClient } from './http.js';
import { LatencyHistogram, type LatencyFigures } from './latency.js';
import { mixSampler, mixShares, OPERATION_NAMES, type Operation } from './mix.js';
import { perform, type Outcome } from './operations.js';
import { resolveLoadOptions, type LoadOptions } from './options.js';
import { OrderBook } from './order-book.js';
import { pace, plannedRequests } from './pacing.js';
import { seededRandom } from './random.js';
import { createShop } from './setup.js';
import { zipfSampler } from './zipf.js';

export { DEFAULT_LOAD_OPTIONS, resolveLoadOptions, type LoadOptions } from './options.js';
export { LoadSetupError } from './setup.js';
export { NAMED_MIXES, OPERATIONS, parseMix, SHOP_MIX, ORDERS_MIX, type Mix, type Operation } from './mix.js';

/** Live figures, every `tickMs` while requests run; `window` covers the time since the last tick. */
export interface LoadTick {
  planned: number;
  completed: number;
  ok: number;
  refused: number;
  errors: number;
  elapsedSeconds: number;
  window: { requests: number; ratePerSecond: number; p50: number; p99: number };
}

export interface LoadHooks {
  signal?: AbortSignal;
  /** Users and products created so far, of `total`. */
  onSetup?(done: number, total: number): void;
  /** Requests begin; `planned` of them at most. */
  onStart?(planned: number): void;
  onTick?(tick: LoadTick): void;
}

type Counts = { ok: number; refused: number; errors: number };

/**
 * What a run did. Every request is counted once, in `requests` and under its operation; when no
 * request failed (`requests.errors` 0, `orders.uncertain` 0), `orders` and `payments` are what
 * MySQL holds for the run's orders.
 */
export interface LoadSummary {
  url: string;
  runId: string;
  seed: number;
  target: { rate: number; durationSeconds: number | null; requests: number; concurrency: number };
  /** The operations' shares in the mix as given (before fallbacks to create). */
  mix: Record<Operation, number>;
  setup: { users: number; products: number; seconds: number };
  /** From the first request to the last answer. */
  seconds: number;
  requests: Counts & { sent: number; notSent: number; peakInFlight: number };
  /** Answered requests per second over `seconds`. */
  achievedRate: number;
  latencyMs: LatencyFigures;
  operations: Record<Operation, Counts & { latencyMs: LatencyFigures }>;
  /** Refusals by `<status> <code>`, e.g. "409 INSUFFICIENT_STOCK". */
  refusals: Record<string, number>;
  /** Errors by `<status> <code>` or transport error (ECONNREFUSED, TIMEOUT…). */
  errorCauses: Record<string, number>;
  orders: { created: number; byStatus: Record<OrderStatus, number>; deleted: number; uncertain: number; totalAmount: string };
  payments: { captured: number; amount: string };
}

/**
 * `shopstream load`: realistic traffic through the HTTP API. Creates the run's users and
 * products through the API, then sends `rate` requests per second (pacing.ts) drawn from the
 * mix (mix.ts) with products chosen by popularity (zipf.ts), until `durationSeconds` or
 * `requests`, or `signal` aborts; requests in flight are always awaited. Resolves to the summary.
 */
export async function runLoad(given: Partial<LoadOptions> & Pick<LoadOptions, 'url' | 'adminToken'>, hooks: LoadHooks = {}): Promise<LoadSummary> {
  const options = resolveLoadOptions(given);
  const random = seededRandom(options.seed);
  const http = httpClient(options.url, { sockets: options.concurrency + options.setupConcurrency, timeoutMs: options.requestTimeoutMs });
  try {
    const setupStarted = performance.now();
    const shop = await createShop(
      http,
      { runId: options.runId, users: options.users, products: options.products, initialStock: options.initialStock, adminToken: options.adminToken, concurrency: options.setupConcurrency, random, signal: hooks.signal },
      (done, total) => hooks.onSetup?.(done, total),
    );
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    const book = new OrderBook(options.poolCapacity, random);
    const ctx = { http, book, shop, random, product: zipfSampler(shop.products.length, options.zipfExponent), adminToken: options.adminToken, runId: options.runId };
    const draw = mixSampler(options.mix);
    const all = new LatencyHistogram();
    const window = new LatencyHistogram();
    const byOperation = Object.fromEntries(OPERATION_NAMES.map((name) => [name, { ok: 0, refused: 0, errors: 0, latency: new LatencyHistogram() }])) as Record<Operation, Counts & { latency: LatencyHistogram }>;
    const totals: Counts = { ok: 0, refused: 0, errors: 0 };
    const refusals: Record<string, number> = {};
    const errorCauses: Record<string, number> = {};
    let createdCents = 0n;
    let paidCents = 0n;
    let payments = 0;

    const planned = plannedRequests(options.rate, options.durationSeconds, options.requests);
    hooks.onStart?.(planned);
    const started = performance.now();
    let lastTick = started;
    const tick = () => {
      const at = performance.now();
      const figures = window.figures();
      hooks.onTick?.({
        planned,
        completed: all.count,
        ...totals,
        elapsedSeconds: (at - started) / 1000,
        window: { requests: figures.count, ratePerSecond: at > lastTick ? (figures.count * 1000) / (at - lastTick) : 0, p50: figures.p50, p99: figures.p99 },
      });
      window.reset();
      lastTick = at;
    };
    const ticker = setInterval(tick, options.tickMs);
    let paced;
    try {
      paced = await pace(
        {
          rate: options.rate,
          planned,
          concurrency: options.concurrency,
          deadlineMs: options.durationSeconds === undefined ? undefined : started + options.durationSeconds * 1000,
          signal: hooks.signal,
          now: () => performance.now(),
          sleep,
        },
        async (index) => {
          const done = await perform(ctx, draw(random()), index);
          const counts = byOperation[done.operation];
          counts[slot(done.outcome)]++;
          totals[slot(done.outcome)]++;
          counts.latency.record(done.ms);
          all.record(done.ms);
          window.record(done.ms);
          if (done.outcome === 'refused') refusals[done.label!] = (refusals[done.label!] ?? 0) + 1;
          if (done.outcome === 'error') errorCauses[done.label!] = (errorCauses[done.label!] ?? 0) + 1;
          if (done.outcome === 'ok' && done.amount !== undefined) {
            if (done.operation === 'create') createdCents += toCents(done.amount);
            else {
              paidCents += toCents(done.amount);
              payments++;
            }
          }
        },
      );
    } finally {
      clearInterval(ticker);
    }
    tick();
    const seconds = (performance.now() - started) / 1000;
    return {
      url: options.url,
      runId: options.runId,
      seed: options.seed,
      target: { rate: options.rate, durationSeconds: options.durationSeconds ?? null, requests: planned, concurrency: options.concurrency },
      mix: mixShares(options.mix),
      setup: { users: shop.users.length, products: shop.products.length, seconds: round(setupSeconds, 2) },
      seconds: round(seconds, 2),
      requests: { sent: paced.sent, notSent: paced.notSent, peakInFlight: paced.peakInFlight, ...totals },
      achievedRate: round(all.count / seconds, 1),
      latencyMs: roundFigures(all.figures()),
      operations: Object.fromEntries(OPERATION_NAMES.map((name) => {
        const { latency, ...counts } = byOperation[name];
        return [name, { ...counts, latencyMs: roundFigures(latency.figures()) }];
      })) as LoadSummary['operations'],
      refusals,
      errorCauses,
      orders: { created: book.created, byStatus: { ...book.byStatus }, deleted: book.deleted, uncertain: book.uncertain, totalAmount: fromCents(createdCents) },
      payments: { captured: payments, amount: fromCents(paidCents) },
    };
  } finally {
    http.close();
  }
}

const slot = (outcome: Outcome): keyof Counts => (outcome === 'error' ? 'errors' : outcome);

const round = (value: number, digits: number) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

function roundFigures(f: LatencyFigures): LatencyFigures {
  return { count: f.count, p50: round(f.p50, 2), p90: round(f.p90, 2), p99: round(f.p99, 2), max: round(f.max, 2), mean: round(f.mean, 2) };
}
