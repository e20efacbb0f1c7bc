import { z } from 'zod';
import type { AnalyticsReader } from './ports.js';
import { defineRoute, type RouteSpec } from './route.js';
import { dailySalesQuery, money } from './schemas.js';
import { problemView } from './views.js';

const DAY_MS = 86_400_000;
const dailySalesView = z.array(z.object({ date: z.iso.date(), orders: z.int(), revenue: money, avgOrderValue: money }));

export function analyticsRoutes(analytics: AnalyticsReader): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/analytics/daily-sales',
      summary: 'Counted orders and revenue per UTC day of creation (default: the last 30 days)',
      tag: 'analytics',
      query: dailySalesQuery,
      responses: { 200: { description: 'days with sales', schema: dailySalesView }, 400: { description: 'problem details', schema: problemView } },
      handle: async ({ query }) => {
        const to = query.to ?? new Date().toISOString().slice(0, 10);
        const from = query.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
        return { status: 200, body: await analytics.dailySales(from, to) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/analytics/health',
      summary: 'Whether the analytics store answers, and how fresh it is',
      tag: 'analytics',
      responses: { 200: { description: 'reachable', schema: z.object({ reachable: z.boolean(), freshnessSeconds: z.number().nullable() }) } },
      handle: async () => {
        const health = await analytics.health().catch(() => ({ reachable: false, newestAppliedAt: null }));
        const freshnessSeconds = health.newestAppliedAt === null ? null : Math.max(0, Date.now() / 1000 - health.newestAppliedAt / 1e6);
        return { status: health.reachable ? 200 : 503, body: { reachable: health.reachable, freshnessSeconds } };
      },
    }),
  ];
}
