import express, { Router, type Express } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEntry, AuditLog, TokenStore } from '../auth/tokens.js';
import { NotFoundError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import { adminRoutes } from './admin-routes.js';
import { opsRoutes } from './ops-routes.js';
import { analyticsRoutes, type AnalyticsDeps } from './analytics-routes.js';
import type { LiveFeed } from './live.js';
import { pipelineRoutes } from './pipeline-routes.js';
import { catalogRoutes } from './catalog-routes.js';
import { openApiDocument } from './openapi.js';
import { orderRoutes } from './order-routes.js';
import type { MetricsEndpoint, OpsJobs, PipelineHealthReader, ReadinessCheck } from './ports.js';
import { problemHandler } from './problem.js';
import { rateLimiter, type RateLimitOptions } from './rate-limit.js';
import { mount, unmatchedAdminCall, type MountDeps, type RouteSpec } from './route.js';

export interface ApiOptions {
  /** Largest accepted JSON body; larger is 413. Default '64kb'. */
  bodyLimit: string;
  /**
   * Write requests per client (its principal, else its address). Default 200/s: 400 per 2 s
   * window, counted in this process; perSecond 0 turns it off.
   */
  rateLimit: RateLimitOptions;
  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For names the client (true: all; a
   * number: that many hops; a string: addresses, subnets or loopback/linklocal/uniquelocal).
   * Default false: the peer address is the client, and the header is ignored.
   */
  trustProxy: boolean | number | string;
  /** Version shown in the OpenAPI document. */
  version: string;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_API_OPTIONS: ApiOptions = {
  bodyLimit: '64kb',
  rateLimit: { perSecond: 200, burst: 400 },
  trustProxy: false,
  version: '0.0.0',
  metrics: noopMetrics,
  logger: createLogger('api'),
};

export interface ApiDeps {
  /** The write side; absent when this process does not serve the order API. */
  orders?: OrderServiceDeps;
  /** Tokens and audit log of the admin API (served with `orders`). */
  admin?: { tokens: TokenStore; audit: AuditLog & { listAudit(limit: number): Promise<(AuditEntry & { at: number })[]> } };
  /** The analytics read side; absent when this process does not serve it. */
  analytics?: AnalyticsDeps;
  readiness?: ReadinessCheck[];
  metricsEndpoint?: MetricsEndpoint;
  /** Long operations run in this process (served with `admin`). */
  ops?: OpsJobs;
  /** GET /api/pipeline/health. */
  pipelineHealth?: PipelineHealthReader;
  /** GET /api/events: the dashboard's server-sent events. */
  live?: LiveFeed;
}

/** The dashboard at `/`: built by `web/build.mjs` (setup runs it), never committed. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));
/** The page loads only what this server serves: a CDN or any other origin is refused by the browser. */
const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The routes this process serves, in one list: mounted and documented alike. */
export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    ...(deps.orders ? [...orderRoutes(deps.orders), ...catalogRoutes(deps.orders)] : []),
    ...(deps.orders && deps.admin ? adminRoutes(deps.orders, deps.admin.audit) : []),
    ...(deps.admin && deps.ops ? opsRoutes(deps.ops, deps.admin.audit) : []),
    ...(deps.analytics ? analyticsRoutes(deps.analytics) : []),
    ...(deps.pipelineHealth ? pipelineRoutes(deps.pipelineHealth) : []),
  ];
}

/** Builds the HTTP application (no `listen`): routes are thin, errors become problem+json in one place. */
export function createApp(deps: ApiDeps, options: Partial<ApiOptions> = {}): Express {
  const { bodyLimit, rateLimit, trustProxy, version, metrics, logger } = { ...DEFAULT_API_OPTIONS, ...options };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', trustProxy);

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

  const routes = apiRoutes(deps);
  const mountDeps: MountDeps = {
    tokens: deps.admin?.tokens,
    audit: deps.admin?.audit,
    limitWrites: rateLimiter(rateLimit),
    // Parsed per route, after authentication and the rate limit, so its refusals are audited.
    parseBody: express.json({ limit: bodyLimit, strict: true, type: ['application/json', 'application/*+json'] }),
    logger,
  };
  const router = Router();
  for (const route of routes) mount(router, route, mountDeps);
  if (deps.live) router.get('/api/events', deps.live.handle);
  const document = openApiDocument(routes, version);
  router.get('/api/openapi.json', (_req, res) => void res.json(document));
  app.use(router);
  if (deps.admin) app.use('/admin', unmatchedAdminCall(mountDeps));
  app.get('/', (_req, res, next) => {
    if (existsSync(join(DASHBOARD_DIR, 'index.html'))) return next();
    res.status(503).type('text/plain').send('The dashboard is not built: `npm start` builds it (or `npm run build:web`).\n');
  });
  app.use(
    express.static(DASHBOARD_DIR, {
      index: 'index.html',
      setHeaders: (res, path) => {
        res.setHeader('cache-control', 'no-cache');
        if (path.endsWith('.html')) res.setHeader('content-security-policy', DASHBOARD_CSP);
      },
    }),
  );

  app.use((req, _res, next) => next(new NotFoundError('route', `${req.method} ${req.path}`, 'ROUTE_NOT_FOUND')));
  app.use(problemHandler(logger));
  return app;
}
