import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import {
  ConflictError,
  DependencyError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  ShopstreamError,
  UnauthorizedError,
  UnprocessableError,
  ValidationError,
  type FieldIssue,
} from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** RFC 9457 problem details, with shopstream's stable `code` and, for bad input, the fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  fields?: FieldIssue[];
}

/**
 * Zod issues as offending fields: body fields as JSON pointers (`/items/0/quantity`), others
 * prefixed with where they are (`query:/limit`, `header:Idempotency-Key`).
 */
export function fromZod(error: ZodError, where: 'body' | 'query' | 'params' | 'headers', name?: string): ValidationError {
  const fields = error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    const pointers = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => `/${[...path, key].join('/')}`) : [`/${path.join('/')}`];
    return pointers.map((pointer) => {
      const field = where === 'body' ? pointer : where === 'headers' ? `header:${name}` : `${where}:${pointer}`;
      return { field, message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message };
    });
  });
  return new ValidationError(`the request ${where === 'headers' ? `header ${name}` : where} is invalid`, fields);
}

/** The problem an error answers as (the admin audit records its status and code too). */
export function toProblem(error: unknown): Problem {
  const problem = (status: number, title: string, code: string, detail: string, fields?: FieldIssue[]): Problem => ({
    type: `https://shopstream.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    ...(fields ? { fields } : {}),
  });
  if (error instanceof ValidationError) return problem(400, 'Invalid request', error.code, error.message, error.fields);
  if (error instanceof UnauthorizedError) return problem(401, 'Unauthorized', error.code, error.message);
  if (error instanceof ForbiddenError) return problem(403, 'Forbidden', error.code, error.message);
  if (error instanceof NotFoundError) return problem(404, 'Not found', error.code, error.message);
  if (error instanceof UnprocessableError) return problem(422, 'Unprocessable request', error.code, error.message, error.fields);
  if (error instanceof RateLimitedError) return problem(429, 'Too many requests', error.code, error.message);
  if (error instanceof ConflictError) return problem(409, 'Conflict', error.code, error.message);
  if (error instanceof DependencyError) return problem(503, 'Service unavailable', error.code, error.message);
  const http = error as { type?: string; status?: number };
  if (http.type === 'entity.too.large') return problem(413, 'Payload too large', 'PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
  if (http.type === 'entity.parse.failed') return problem(400, 'Malformed JSON', 'MALFORMED_JSON', 'the request body is not valid JSON');
  if (http.type === 'encoding.unsupported' || http.status === 415) return problem(415, 'Unsupported media type', 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  // Other client errors raised by Express itself (a path parameter that is not valid percent-encoding...).
  if (typeof http.status === 'number' && http.status >= 400 && http.status < 500) return problem(http.status, 'Bad request', 'BAD_REQUEST', 'the request is malformed');
  if (error instanceof ShopstreamError) return problem(500, 'Internal error', error.code, error.message);
  return problem(500, 'Internal error', 'INTERNAL', 'an unexpected error occurred');
}

/** Seconds a client is told to wait (Retry-After) when a dependency such as MySQL is unavailable. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

/** The one place where errors become HTTP responses. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = toProblem(error);
    if (error instanceof RateLimitedError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof DependencyError && error.retriable) res.setHeader('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS));
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="shopstream-admin"');
    if (problem.status >= 500) logger.error('request failed', { method: req.method, path: req.path, error });
    res.status(problem.status).type('application/problem+json').send(JSON.stringify({ ...problem, instance: req.originalUrl }));
  };
}
