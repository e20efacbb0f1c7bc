import { DependencyError, ShopstreamError } from '../core/errors.js';

/**
 * ClickHouse error codes after which the same insert may succeed (the list the ClickHouse Kafka
 * Connect sink retries, plus MEMORY_LIMIT_EXCEEDED): timeouts, overload, network, read-only
 * replicas, an insert whose outcome the server does not know. Anything else (a type mismatch,
 * a missing table) fails the same way every time.
 */
const RETRIABLE_CODES = new Set([3, 159, 164, 202, 203, 209, 210, 241, 242, 252, 285, 319, 425, 999, 1002]);

/** Transport failures of the HTTP client (a server that is down, restarting or unreachable). */
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/** An insert ClickHouse refused for good: retrying the same rows cannot help. */
export class ClickHouseRejectedError extends ShopstreamError {
  constructor(message: string, readonly clickhouseCode: number | undefined, cause: unknown) {
    super('CLICKHOUSE_REJECTED', message, { cause, retriable: false });
  }
}

/**
 * Maps a failure of @clickhouse/client (server or embedded engine) to shopstream's errors: a
 * retriable DependencyError('clickhouse') or a ClickHouseRejectedError. Unclassified failures
 * without a ClickHouse code (an aborted request, a socket hang-up) count as transient.
 */
export function classifyClickHouseError(error: unknown, what: string): ShopstreamError {
  if (error instanceof ShopstreamError) return error;
  const e = error as { code?: unknown; type?: unknown; message?: unknown };
  const message = `${what}: ${typeof e.message === 'string' ? e.message.trim() : String(error)}`;
  const numeric = typeof e.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : typeof e.code === 'number' ? e.code : codeInMessage(e.message);
  if (numeric !== undefined) {
    return RETRIABLE_CODES.has(numeric) ? new DependencyError('clickhouse', message, { cause: error }) : new ClickHouseRejectedError(message, numeric, error);
  }
  if (typeof e.code === 'string' && !TRANSPORT_CODES.has(e.code) && !/socket|timeout|abort/i.test(message)) {
    return new ClickHouseRejectedError(message, undefined, error);
  }
  return new DependencyError('clickhouse', message, { cause: error });
}

function codeInMessage(message: unknown): number | undefined {
  const match = typeof message === 'string' ? /\bCode: (\d+)\b/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}
