import { ConfigError } from '../core/errors.js';
import { parseMix, type Mix } from '../load/mix.js';
import { strict, UsageError } from './flags.js';

export const LOAD_USAGE = `usage: shopstream load [--rate N] [--duration S] [--requests N] [--concurrency C] [--users N] [--products N]
                      [--mix shop|orders|OP=WEIGHT,…] [--zipf E] [--seed N] [--url URL] [--json]

  defaults: --rate 50 (requests/s) --duration 60 (s; none with --requests) --concurrency 32 --users 500 --products 100
            --mix shop --zipf 1 --url http://127.0.0.1:$PORT; OP: create, pay, ship, complete, cancel, refund, delete, invalid`;

export interface LoadArgs {
  rate: number | undefined;
  durationSeconds: number | undefined;
  requests: number | undefined;
  concurrency: number | undefined;
  users: number | undefined;
  products: number | undefined;
  mix: Mix | undefined;
  zipfExponent: number | undefined;
  seed: number | undefined;
  url: string | undefined;
  json: boolean;
}

function number(value: string | undefined, flag: string, kind: 'integer' | 'positive' | 'non-negative'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (kind === 'integer' ? Number.isInteger(n) && n >= 1 : kind === 'positive' ? n > 0 : n >= 0);
  if (!ok) throw new UsageError(`${flag} must be ${kind === 'integer' ? 'a positive integer' : kind === 'positive' ? 'a number above 0' : 'a number, 0 or more'} (got "${value}")`, LOAD_USAGE);
  return n;
}

export function parseLoadArgs(args: string[]): LoadArgs {
  const s = { type: 'string' } as const;
  const { values } = strict(
    args,
    { rate: s, duration: s, requests: s, concurrency: s, users: s, products: s, mix: s, zipf: s, seed: s, url: s, json: { type: 'boolean' } },
    LOAD_USAGE,
    0,
  );
  let mix: Mix | undefined;
  try {
    mix = values.mix === undefined ? undefined : parseMix(values.mix);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--mix: ${error.message}`, LOAD_USAGE);
    throw error;
  }
  if (values.url !== undefined && !/^https?:\/\/[^\s/]+/.test(values.url)) throw new UsageError(`--url must be an http(s) URL (got "${values.url}")`, LOAD_USAGE);
  const seed = number(values.seed, '--seed', 'non-negative');
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be an integer (got "${values.seed}")`, LOAD_USAGE);
  return {
    rate: number(values.rate, '--rate', 'positive'),
    durationSeconds: number(values.duration, '--duration', 'positive'),
    requests: number(values.requests, '--requests', 'integer'),
    concurrency: number(values.concurrency, '--concurrency', 'integer'),
    users: number(values.users, '--users', 'integer'),
    products: number(values.products, '--products', 'integer'),
    mix,
    zipfExponent: number(values.zipf, '--zipf', 'non-negative'),
    seed,
    url: values.url,
    json: values.json ?? false,
  };
}
