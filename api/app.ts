import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { OrderServiceDeps } from '../orders/service.js';
import { analyticsRouter } from './analytics-routes.js';
import { ordersRouter } from './orders-routes.js';
import { problemHandler } from './problem.js';
import type { AnalyticsReader, MetricsEndpoint, ReadinessCheck } from './ports.js';

export interface ApiOptions {
  /** Largest accepted JSON body. Default '64kb'. */
  bodyLimit: string;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_API_OPTIONS: ApiOptions = { bodyLimit: '64kb', metrics: noopMetrics, logger: createLogger('api') };

export interface ApiDeps {
  /** The write side; absent when this process does not serve the order API. */
  orders?: OrderServiceDeps;
  /** The analytics read side; absent when this process does not serve it. */
  analytics?: AnalyticsReader;
  readiness?: ReadinessCheck[];
  metricsEndpoint?: MetricsEndpoint;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));

/** Builds the HTTP application (no `listen`): routes are thin, errors become problem+json in one place. */
export function createApp(deps: ApiDeps, options: Partial<ApiOptions> = {}): Express {
  const { bodyLimit, metrics, logger } = { ...DEFAULT_API_OPTIONS, ...options };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  const requests = metrics.counter({ name: 'shopstream_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'] });
  const latency = metrics.histogram({
    name: 'shopstream_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
  });
  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      requests.inc({ method: req.method, route, status: res.statusCode });
      latency.observe((performance.now() - started) / 1000, { method: req.method, route });
    });
    next();
  });
  app.use(express.json({ limit: bodyLimit, strict: true }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.all((deps.readiness ?? []).map((check) => check().catch((error) => ({ name: 'check', ok: false, detail: String(error) }))));
    const ready = checks.every((check) => check.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  if (deps.metricsEndpoint) {
    const endpoint = deps.metricsEndpoint;
    app.get('/metrics', async (_req, res) => void res.type(endpoint.contentType).send(await endpoint.render()));
  }
  if (deps.orders) app.use('/api/orders', ordersRouter(deps.orders));
  if (deps.analytics) app.use('/api/analytics', analyticsRouter(deps.analytics));
  app.use(express.static(PUBLIC_DIR, { index: 'index.html' }));

  app.use((req, _res, next) => next(new NotFoundError('route', `${req.method} ${req.path}`, 'ROUTE_NOT_FOUND')));
  app.use(problemHandler(logger));
  return app;
}
