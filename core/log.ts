import pino, { type DestinationStream } from 'pino';

/**
 * Structured logs through pino: one JSON line per event on stderr (`level`, `time`, `name`,
 * `msg`, then the fields), level filtered by the value given to `setLogLevel` (entry points read
 * LOG_LEVEL), whenever the logger was created. Libraries receive a Logger; they never print.
 *
 * Fields are made safe and useful before they are written (`logFields`): an Error keeps its
 * name, message, code, stack and cause (recursively); secrets are redacted, by field name
 * (password, token, secret, authorization, cookie, api key) and by content (bearer tokens,
 * `sst_…` admin tokens, the password of `scheme://user:password@host` URLs), in the message too.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
let threshold: LogLevel = 'info';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(name: string): Logger;
}

export interface LoggerOptions {
  /** Where the lines go. Default: stderr, written synchronously (nothing is lost on a crash). */
  destination?: DestinationStream;
}

let stderrLogger: pino.Logger | undefined;

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const base = options.destination ? pinoLogger(options.destination) : (stderrLogger ??= pinoLogger(pino.destination({ fd: 2, sync: true })));
  return wrap(base, name);
}

/** pino lets everything through; the threshold (which may change after creation) filters. */
function pinoLogger(destination: DestinationStream): pino.Logger {
  return pino({ level: 'debug', base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, destination);
}

function wrap(base: pino.Logger, name: string): Logger {
  const target = base.child({ name });
  const emit = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[threshold]) return;
    target[level](fields ? (logFields(fields) as object) : {}, redactText(message));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), child: (child) => wrap(base, `${name}.${child}`) };
}

/** Field names whose values are secrets, compared lower-cased without `-` and `_` (so `tokenId` is not one). */
const SECRET_KEY = /^pass(wd)?$|password$|secret$|token$|apikey$|authorization$|cookie$|^credentials?$/;
const isSecretKey = (key: string) => SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

/** Secrets inside free text: URL passwords, bearer credentials and admin tokens. */
export function redactText(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s/?#@]*@/gi, `$1:${REDACTED}@`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`)
    .replace(/\bsst_[A-Za-z0-9_-]+/g, `sst_${REDACTED}`);
}

/**
 * What a log line carries for `value`: plain JSON, errors expanded (name, message, code, stack,
 * cause and their other own fields), bigints as strings, secrets redacted, cycles and depth cut.
 */
export function logFields(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => logFields(item, depth + 1, seen));
    if (value instanceof Date) return value.toISOString();
    const entries: [string, unknown][] =
      value instanceof Error
        ? [
            ['type', value.name],
            ['message', value.message],
            ...Object.entries(value).filter(([key]) => key !== 'cause' && key !== 'name'),
            ['stack', value.stack],
            ...(value.cause === undefined ? [] : ([['cause', value.cause]] as [string, unknown][])),
            ...(value instanceof AggregateError ? ([['errors', value.errors]] as [string, unknown][]) : []),
          ]
        : Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, field] of entries) {
      if (field === undefined) continue;
      out[key] = isSecretKey(key) ? REDACTED : logFields(field, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
