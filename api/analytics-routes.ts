import { z } from 'zod';
import { microsToIso } from '../core/time.js';
import type { AnalyticsStore } from '../analytics/read-model.js';
import { defineRoute, type RouteSpec } from './route.js';
import { dailySalesQuery, hourlySalesQuery, money, statsQuery, topProductsQuery, userIdParams } from './schemas.js';
import { problemView } from './views.js';

const DAY_MS = 86_400_000;
const problem = { description: 'problem details', schema: problemView };
const today = () => new Date().toISOString().slice(0, 10);
const daysBefore = (date: string, days: number) => new Date(Date.parse(date) - days * DAY_MS).toISOString().slice(0, 10);
const count = z.int();
const healthView = z.object({
  reachable: z.boolean(),
  freshnessSeconds: z
    .number()
    .nullable()
    .describe(
      'Seconds since the emit time (outbox commit) of the newest canary heartbeat queryable in ClickHouse: everything committed before it went through the whole pipeline. While the pipeline keeps up it stays between the round trip and the canary interval plus the round trip; null before the first heartbeat (or with the canary off).',
    ),
  newestHeartbeatAt: z.iso.datetime({ offset: true }).nullable().describe('Emit time of that heartbeat (UTC, microsecond precision)'),
});

export interface AnalyticsDeps {
  store: AnalyticsStore;
  /** Wall clock, epoch ms (freshness is measured against it). Default Date.now. */
  now?: () => number;
}

/** The analytics API (SPEC §7): reads ClickHouse, parameterized queries only. */
export function analyticsRoutes({ store, now = Date.now }: AnalyticsDeps): RouteSpec[] {
  const get = <Q, P>(path: string, summary: string, schema: z.ZodType, handle: (input: { query: Q; params: P }) => Promise<unknown>, inputs: { query?: z.ZodType<Q>; params?: z.ZodType<P> } = {}) =>
    defineRoute<undefined, Q, P>({
      method: 'get',
      path: `/api/analytics${path}`,
      summary,
      tag: 'analytics',
      ...inputs,
      responses: { 200: { description: summary, schema }, 400: problem },
      handle: async (input) => ({ status: 200, body: await handle(input as { query: Q; params: P }) }),
    });
  return [
    get(
      '/daily-sales',
      'Counted orders and revenue per UTC day of creation (default: the last 30 days)',
      z.array(z.object({ date: z.iso.date(), orders: count, revenue: money, avgOrderValue: money })),
      ({ query }: { query: z.infer<typeof dailySalesQuery> }) => {
        const to = query.to ?? today();
        return store.dailySales(query.from ?? daysBefore(to, 29), to);
      },
      { query: dailySalesQuery },
    ),
    get(
      '/hourly-sales',
      'Counted orders and revenue per UTC hour of a day (default: today)',
      z.array(z.object({ hour: z.int().min(0).max(23), orders: count, revenue: money })),
      ({ query }: { query: z.infer<typeof hourlySalesQuery> }) => store.hourlySales(query.date ?? today()),
      { query: hourlySalesQuery },
    ),
    get('/order-status', 'Non-deleted orders by current status (cancelled and refunded included)', z.array(z.object({ status: z.string(), orders: count, revenue: money })), () =>
      store.orderStatus(),
    ),
    get(
      '/top-products',
      'Products by revenue over the counted orders created in [from, to]',
      z.array(z.object({ productId: z.uuid(), name: z.string(), units: count, revenue: money })),
      ({ query }: { query: z.infer<typeof topProductsQuery> }) => {
        const to = query.to ?? today();
        return store.topProducts(query.from ?? daysBefore(to, 29), to, query.limit);
      },
      { query: topProductsQuery },
    ),
    get('/payment-methods', 'Counted orders with a captured payment, by method', z.array(z.object({ method: z.string(), orders: count, revenue: money })), () =>
      store.paymentMethods(),
    ),
    get(
      '/stats',
      'Counted orders, revenue, average order value and customers: of every order, or (from and to) of the orders created in those UTC days',
      z.object({ orders: count, revenue: money, avgOrderValue: money, customers: count }),
      ({ query }: { query: z.infer<typeof statsQuery> }) => store.stats(query.from && query.to ? { from: query.from, to: query.to } : undefined),
      { query: statsQuery },
    ),
    get(
      '/users/:userId',
      "A user's counted orders, revenue, first and last order",
      z.object({ orders: count, revenue: money, firstOrderAt: z.string().nullable(), lastOrderAt: z.string().nullable() }),
      ({ params }: { params: z.infer<typeof userIdParams> }) => store.userSales(params.userId),
      { params: userIdParams },
    ),
    defineRoute({
      method: 'get',
      path: '/api/analytics/health',
      summary: 'Whether the analytics store answers, and how fresh it is: the age of the newest canary heartbeat it holds',
      tag: 'analytics',
      responses: {
        200: { description: 'reachable', schema: healthView },
        503: { description: 'unreachable (the same body, reachable false)' },
      },
      handle: async () => {
        const health = await store.health().catch(() => ({ reachable: false, newestHeartbeatAt: null }));
        const at = health.newestHeartbeatAt;
        const freshnessSeconds = at === null ? null : Math.max(0, now() - at / 1000) / 1000;
        return { status: health.reachable ? 200 : 503, body: { reachable: health.reachable, freshnessSeconds, newestHeartbeatAt: at === null ? null : microsToIso(at) } };
      },
    }),
  ];
}
