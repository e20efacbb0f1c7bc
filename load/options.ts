import { ConfigError } from '../core/errors.js';
import { SHOP_MIX, type Mix } from './mix.js';

/** One load run. Defaults (DEFAULT_LOAD_OPTIONS) are applied by resolveLoadOptions only. */
export interface LoadOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:3000. Required. */
  url: string;
  /** Bearer token of the admin role: creates the products, soft-deletes orders. Required. */
  adminToken: string;
  /** Requests offered per second (open loop, see pacing.ts). Default 50. */
  rate: number;
  /** Seconds of load; no request starts after. Default 60 unless `requests` is set (then none). */
  durationSeconds: number | undefined;
  /** At most this many requests. Default: rate × duration. */
  requests: number | undefined;
  /** Most requests in flight at once. Default 32. */
  concurrency: number;
  /** Users created at the start (POST /api/users); orders pick one uniformly. Default 500. */
  users: number;
  /** Products created at the start (POST /admin/products). Default 100. */
  products: number;
  /** Units in stock of each new product. Default 1,000,000 (a run does not sell out). */
  initialStock: number;
  /** Weights of the operations (mix.ts). Default SHOP_MIX. */
  mix: Mix;
  /** Product popularity: the k-th most popular is ordered ∝ 1/k^zipf. Default 1. */
  zipfExponent: number;
  /** Seed of every random choice. Default: from the clock. */
  seed: number;
  /** Names the run's users, products and idempotency keys. Default: from the seed. */
  runId: string;
  /** A request without an answer this long is an error (TIMEOUT). Default 30,000 ms. */
  requestTimeoutMs: number;
  /** Setup requests in flight at once. Default 8. */
  setupConcurrency: number;
  /** Orders kept per status to act on (memory bound; the counts cover every order). Default 20,000. */
  poolCapacity: number;
  /** Time between two progress ticks. Default 1,000 ms. */
  tickMs: number;
}

export const DEFAULT_LOAD_OPTIONS = {
  rate: 50,
  durationSeconds: 60,
  concurrency: 32,
  users: 500,
  products: 100,
  initialStock: 1_000_000,
  mix: SHOP_MIX,
  zipfExponent: 1,
  requestTimeoutMs: 30_000,
  setupConcurrency: 8,
  poolCapacity: 20_000,
  tickMs: 1_000,
} as const;

export function resolveLoadOptions(given: Partial<LoadOptions> & Pick<LoadOptions, 'url' | 'adminToken'>): LoadOptions {
  const seed = given.seed ?? Date.now() % 2 ** 31;
  const requests = given.requests;
  const options: LoadOptions = {
    ...DEFAULT_LOAD_OPTIONS,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    durationSeconds: given.durationSeconds ?? (requests === undefined ? DEFAULT_LOAD_OPTIONS.durationSeconds : undefined),
    requests,
    seed,
    runId: given.runId ?? seed.toString(36),
  } as LoadOptions;
  const positive = (name: keyof LoadOptions, value: number | undefined, integer = true) => {
    if (value !== undefined && !(value > 0 && (!integer || Number.isInteger(value)))) throw new ConfigError(`load: ${name} must be a positive ${integer ? 'integer' : 'number'} (got ${value})`);
  };
  positive('rate', options.rate, false);
  positive('durationSeconds', options.durationSeconds, false);
  positive('requests', options.requests);
  for (const name of ['concurrency', 'users', 'products', 'requestTimeoutMs', 'setupConcurrency', 'poolCapacity', 'tickMs'] as const) positive(name, options[name]);
  if (!(options.zipfExponent >= 0)) throw new ConfigError(`load: zipfExponent must be 0 or more (got ${options.zipfExponent})`);
  if (!/^[A-Za-z0-9]{1,20}$/.test(options.runId)) throw new ConfigError(`load: runId must be 1–20 letters or digits (got "${options.runId}")`);
  return options;
}
