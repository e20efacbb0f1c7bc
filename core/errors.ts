/**
 * Typed errors shared by every layer. Each has a stable `code` (part of the public contract:
 * clients and the HTTP edge switch on it), an optional `cause`, and a `retriable` flag that
 * tells the one retry helper (core/retry.ts) and the stage error handlers whether trying the
 * same operation again can succeed. HTTP status mapping happens only at the API edge.
 */
export interface ShopstreamErrorOptions {
  cause?: unknown;
  retriable?: boolean;
}

export class ShopstreamError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: ShopstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** One offending input field: a JSON-pointer-like path and what is wrong with it. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends ShopstreamError {
  readonly fields: FieldIssue[];
  constructor(message: string, fields: FieldIssue[], code = 'VALIDATION_FAILED') {
    super(code, message);
    this.fields = fields;
  }
}

export class NotFoundError extends ShopstreamError {
  constructor(what: string, id: string, code = 'NOT_FOUND') {
    super(code, `${what} ${id} was not found`);
  }
}

export class ConflictError extends ShopstreamError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Well-formed input that the current state cannot accept (amount ≠ total, key reused with another body). */
export class UnprocessableError extends ShopstreamError {
  /** The offending input fields, when the refusal is about particular ones. */
  readonly fields: FieldIssue[] | undefined;
  constructor(code: string, message: string, fields?: FieldIssue[]) {
    super(code, message);
    this.fields = fields;
  }
}

/** No valid credentials. */
export class UnauthorizedError extends ShopstreamError {
  constructor(message = 'a valid bearer token is required') {
    super('UNAUTHORIZED', message);
  }
}

/** Valid credentials without the required role. */
export class ForbiddenError extends ShopstreamError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** Too many requests from one client; `retryAfterSeconds` tells when to come back. */
export class RateLimitedError extends ShopstreamError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', `too many write requests; retry after ${retryAfterSeconds} s`, { retriable: true });
  }
}

/** A configuration value that cannot work; raised at start-up, never retried. */
export class ConfigError extends ShopstreamError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** An external dependency (database, broker, registry, ClickHouse) failed or is unreachable. */
export class DependencyError extends ShopstreamError {
  readonly dependency: string;
  constructor(dependency: string, message: string, options: ShopstreamErrorOptions = {}) {
    super(`${dependency.toUpperCase()}_UNAVAILABLE`, message, { retriable: true, ...options });
    this.dependency = dependency;
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof ShopstreamError ? error.retriable : false;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
