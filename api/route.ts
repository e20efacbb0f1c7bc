import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { authenticate, requireRole, type AuditEntry, type AuditLog, type Principal, type Role, type TokenStore } from '../auth/tokens.js';
import { errorMessage, NotFoundError, UnauthorizedError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { toProblem } from './problem.js';
import { parse } from './validate.js';

export interface HeaderSpec {
  name: string;
  description: string;
  schema: z.ZodType;
}

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  headers: Record<string, unknown>;
  principal: Principal | undefined;
  /**
   * On admin routes, the audit row of this call as accepted (outcome 'ok'). The handler owns it:
   * a change passes it to its use case, which writes it in the change's transaction; a read
   * records it before answering. Refused and failed calls are audited by `mount`.
   */
  audit: AuditEntry | undefined;
  req: Request;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * One HTTP operation, declared once: its schemas validate the request and generate the OpenAPI
 * document (api/openapi.ts), so the two cannot drift apart.
 */
export interface RouteSpec<B = unknown, Q = unknown, P = unknown> {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express-style path: /api/orders/:id */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  headers?: HeaderSpec[];
  /** Roles allowed; present on admin routes, which are authenticated and audited. */
  roles?: readonly Role[];
  /** Counts against the per-client write rate limit. */
  write?: boolean;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handle(input: RouteInput<B, Q, P>): Promise<RouteResult>;
}

export function defineRoute<B = undefined, Q = undefined, P = undefined>(spec: RouteSpec<B, Q, P>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export interface MountDeps {
  tokens?: TokenStore;
  audit?: AuditLog;
  /** Spends one write from the client's budget; throws RateLimitedError when it is spent. */
  limitWrites?: (client: string) => Promise<void>;
  /** The JSON body parser (express.json); its refusals (413, malformed JSON, 415) belong to the route, so they are audited too. */
  parseBody?: RequestHandler;
  logger: Logger;
}

/**
 * How the API names a client (rate limit, Idempotency-Key scope): its principal when it is
 * authenticated, else its address. `req.ip` honours the app's `trust proxy` setting: behind
 * trusted proxies it is the client's address from X-Forwarded-For, otherwise the peer's, so
 * the header cannot be used to pose as another client.
 */
export function clientOf(req: Request, principal: Principal | undefined): string {
  return principal ? `token:${principal.tokenId}` : `ip:${req.ip ?? 'unknown'}`;
}

/**
 * Registers a route: authenticate → rate limit (per client) → authorize → parse the body →
 * validate → handle. A request refused for a bad token still spends from its address's budget.
 * Every admin call leaves an audit row: an accepted one through its handler (see
 * RouteInput.audit), a refused or failed one here, after the fact.
 */
export function mount(router: Router, route: RouteSpec, deps: MountDeps): void {
  const handler: RequestHandler = async (req, res) => {
    let principal: Principal | undefined;
    const run = async () => {
      let unauthorized: UnauthorizedError | undefined;
      if (route.roles) {
        if (!deps.tokens) throw new Error(`${route.path} needs a token store`);
        principal = await authenticate(deps.tokens, req.header('authorization')).catch((error: unknown) => {
          if (!(error instanceof UnauthorizedError)) throw error;
          unauthorized = error;
          return undefined;
        });
      }
      if (route.write) await deps.limitWrites?.(clientOf(req, principal));
      if (unauthorized) throw unauthorized;
      if (route.roles) requireRole(principal!, route.roles);
      if (deps.parseBody) await runMiddleware(deps.parseBody, req, res);
      const headers: Record<string, unknown> = {};
      for (const header of route.headers ?? []) headers[header.name] = parse(header.schema, req.header(header.name), 'headers', header.name);
      return route.handle({
        body: route.body ? parse(route.body, req.body ?? {}, 'body') : undefined,
        query: route.query ? parse(route.query, req.query, 'query') : undefined,
        params: route.params ? parse(route.params, req.params, 'params') : undefined,
        headers,
        principal,
        audit: route.roles ? auditEntry(`${route.method.toUpperCase()} ${route.path}`, req, principal, undefined) : undefined,
        req,
      });
    };
    let result: RouteResult;
    try {
      result = await run();
    } catch (error) {
      if (route.roles) await auditRefusal(deps, auditEntry(`${route.method.toUpperCase()} ${route.path}`, req, principal, error));
      throw error;
    }
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  };
  router[route.method](route.path, handler);
}

/** For what no route matched under /admin: audited as a refused admin call, then 404. */
export function unmatchedAdminCall(deps: MountDeps): RequestHandler {
  return async (req, _res, next) => {
    const principal = deps.tokens ? await authenticate(deps.tokens, req.header('authorization')).catch(() => undefined) : undefined;
    const error = new NotFoundError('route', `${req.method} ${req.originalUrl.split('?')[0]}`, 'ROUTE_NOT_FOUND');
    await auditRefusal(deps, auditEntry(`${req.method} ${req.originalUrl.split('?')[0]}`, req, principal, error));
    next(error);
  };
}

function runMiddleware(middleware: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => void middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
}

/**
 * An admin call's row: who, what, on what, why, and how it ended: 'ok', 'rejected' (the answer
 * is a 4xx: the client's fault) or 'failed' (5xx), with the problem's status and code.
 */
function auditEntry(action: string, req: Request, principal: Principal | undefined, error: unknown): AuditEntry {
  const body = (req.body ?? {}) as { reason?: unknown };
  const claimed = req.header('x-admin-id');
  const target = Object.values(req.params ?? {})[0];
  const problem = error === undefined ? undefined : toProblem(error);
  return {
    actor: principal?.name ?? (claimed ? `unauthenticated (claimed ${claimed})` : 'unauthenticated'),
    tokenId: principal?.tokenId ?? null,
    action,
    target: typeof target === 'string' ? target : null,
    reason: typeof body.reason === 'string' ? body.reason : null,
    outcome: problem === undefined ? 'ok' : problem.status < 500 ? 'rejected' : 'failed',
    // A server-side failure also names its cause (the answer only says "an unexpected error").
    detail: problem === undefined ? null : `${problem.status} ${problem.code}: ${problem.detail}${problem.status >= 500 && errorMessage(error) !== problem.detail ? ` (${errorMessage(error)})` : ''}`,
  };
}

/**
 * Writes the audit row of a refused or failed call, outside any transaction (there is no change
 * to join). Best effort: a row that cannot be written is logged, and the response stays the same.
 */
async function auditRefusal(deps: MountDeps, entry: AuditEntry): Promise<void> {
  try {
    await deps.audit?.record(entry);
  } catch (error) {
    deps.logger.error('the audit row of a refused admin call could not be written', { entry, error });
  }
}
