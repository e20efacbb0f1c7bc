import { z } from 'zod';
import type { AnalyticsStore } from './ports.js';
import { defineRoute, type RouteSpec } from './route.js';
import { dailySalesQuery, hourlySalesQuery, money, topProductsQuery, userIdParams } from './schemas.js';
import { problemView } from './views.js';

const DAY_MS = 86_400_000;
const problem = { description: 'problem details', schema: problemView };
const today = () => new Date().toISOString().slice(0, 10);
const daysBefore = (date: string, days: number) => new Date(Date.parse(date) - days * DAY_MS).toISOString().slice(0, 10);
const count = z.int();

export interface AnalyticsDeps {
  store: AnalyticsStore;
  /** Outbox commit time (epoch µs) of the newest event written, for freshness; absent without MySQL. */
  newestCommittedAt?: () => Promise<number | null>;
}

/** The analytics API (SPEC §7): reads ClickHouse, parameterized queries only. */
export function analyticsRoutes({ store, newestCommittedAt }: AnalyticsDeps): RouteSpec[] {
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
    get('/stats', 'Counted orders, revenue, average order value and customers', z.object({ orders: count, revenue: money, avgOrderValue: money, customers: count }), () =>
      store.stats(),
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
      summary: 'Whether the analytics store answers, and how far it is behind the newest committed event',
      tag: 'analytics',
      responses: { 200: { description: 'reachable', schema: z.object({ reachable: z.boolean(), freshnessSeconds: z.number().nullable() }) }, 503: { description: 'unreachable' } },
      handle: async () => {
        const health = await store.health().catch(() => ({ reachable: false, newestAppliedAt: null }));
        const newest = (await newestCommittedAt?.().catch(() => null)) ?? null;
        // Seconds between the newest committed event and the newest applied one (0: caught up).
        const freshnessSeconds =
          health.newestAppliedAt === null ? null : newest === null ? 0 : Math.max(0, (newest - health.newestAppliedAt) / 1e6);
        return { status: health.reachable ? 200 : 503, body: { reachable: health.reachable, freshnessSeconds } };
      },
    }),
  ];
}
