import type { Request, RequestHandler, Router } from 'express';
import type { z } from 'zod';
import { authenticate, requireRole, type AuditLog, type Principal, type Role, type TokenStore } from '../auth/tokens.js';
import { errorMessage, ShopstreamError } from '../core/errors.js';
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
  /** Throws RateLimitedError when the client is over its write budget. */
  limitWrites?: (req: Request) => void;
}

/** Registers a route: rate limit → authenticate/authorize → validate → handle → (audit). */
export function mount(router: Router, route: RouteSpec, deps: MountDeps): void {
  const handler: RequestHandler = async (req, res) => {
    if (route.write) deps.limitWrites?.(req);
    let principal: Principal | undefined;
    const run = async () => {
      if (route.roles) {
        if (!deps.tokens) throw new Error(`${route.path} needs a token store`);
        principal = await authenticate(deps.tokens, req.header('authorization'));
        requireRole(principal, route.roles);
      }
      const headers: Record<string, unknown> = {};
      for (const header of route.headers ?? []) headers[header.name] = parse(header.schema, req.header(header.name), 'headers', header.name);
      return route.handle({
        body: route.body ? parse(route.body, req.body ?? {}, 'body') : undefined,
        query: route.query ? parse(route.query, req.query, 'query') : undefined,
        params: route.params ? parse(route.params, req.params, 'params') : undefined,
        headers,
        principal,
        req,
      });
    };
    let result: RouteResult;
    try {
      result = await run();
    } catch (error) {
      if (route.roles) await auditCall(deps, route, req, principal, error);
      throw error;
    }
    if (route.roles) await auditCall(deps, route, req, principal, undefined);
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  };
  router[route.method](route.path, handler);
}

/** Every admin call leaves a row: who, what, on what, why, and how it ended. */
async function auditCall(deps: MountDeps, route: RouteSpec, req: Request, principal: Principal | undefined, error: unknown): Promise<void> {
  const body = (req.body ?? {}) as { reason?: unknown };
  const claimed = req.header('x-admin-id');
  const target = Object.values(req.params ?? {})[0];
  await deps.audit?.record({
    actor: principal?.name ?? (claimed ? `unauthenticated (claimed ${claimed})` : 'unauthenticated'),
    tokenId: principal?.tokenId ?? null,
    action: `${route.method.toUpperCase()} ${route.path}`,
    target: typeof target === 'string' ? target : null,
    reason: typeof body.reason === 'string' ? body.reason : null,
    outcome: error === undefined ? 'ok' : error instanceof ShopstreamError && !(error.retriable) ? 'rejected' : 'failed',
    detail: error === undefined ? null : error instanceof ShopstreamError ? `${error.code}: ${error.message}` : errorMessage(error),
  });
}
