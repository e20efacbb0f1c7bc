import { Router } from 'express';
import type { AnalyticsReader } from './ports.js';
import { dailySalesQuery } from './schemas.js';
import { parse } from './validate.js';

const DAY_MS = 86_400_000;

export function analyticsRouter(analytics: AnalyticsReader): Router {
  const router = Router();
  router.get('/daily-sales', async (req, res) => {
    const query = parse(dailySalesQuery, req.query, 'query');
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
    res.json(await analytics.dailySales(from, to));
  });
  router.get('/health', async (_req, res) => {
    const health = await analytics.health().catch(() => ({ reachable: false, newestAppliedAt: null }));
    const freshnessSeconds = health.newestAppliedAt === null ? null : Math.max(0, Date.now() / 1000 - health.newestAppliedAt / 1e6);
    res.status(health.reachable ? 200 : 503).json({ reachable: health.reachable, freshnessSeconds });
  });
  return router;
}
