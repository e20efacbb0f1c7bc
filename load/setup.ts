import { ShopstreamError } from '../core/errors.js';
import { sleep } from '../core/retry.js';
import type { HttpClient, Reply } from './http.js';

/** The run could not prepare its users and products (or reach the API): nothing was loaded. */
export class LoadSetupError extends ShopstreamError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}

export interface CatalogEntry {
  id: string;
  price: string;
}

export interface Shop {
  users: string[];
  /** By popularity rank: index 0 is the most popular (see zipf.ts). */
  products: CatalogEntry[];
}

const CATEGORIES = ['Electronics', 'Books', 'Home', 'Toys', 'Clothing', 'Sports', 'Beauty', 'Grocery'];

/** A product of the run's catalog: prices log-normal around $25 (a few expensive, many cheap). */
export function catalogProduct(runId: string, index: number, random: () => number, initialStock: number) {
  // Box–Muller: a standard normal from two uniforms.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const dollars = Math.min(1_999, Math.max(1, Math.floor(Math.exp(Math.log(25) + 0.9 * z))));
  return {
    sku: `LOAD-${runId}-${index}`,
    name: `Load item ${index}`,
    category: CATEGORIES[index % CATEGORIES.length]!,
    price: `${dollars}.${random() < 0.7 ? '99' : '49'}`,
    currency: 'USD',
    initialStock,
  };
}

/**
 * Creates `users` users (POST /api/users) and `products` products (POST /admin/products, with
 * the admin token), `concurrency` at a time, named after the run so that runs never collide.
 * A 429 waits for its Retry-After and tries again; any other refusal fails the setup.
 */
export async function createShop(
  http: HttpClient,
  options: { runId: string; users: number; products: number; initialStock: number; adminToken: string; concurrency: number; random: () => number; signal?: AbortSignal },
  onProgress: (done: number, total: number) => void,
): Promise<Shop> {
  const health = await http.call('GET', '/healthz').catch((error) => {
    throw new LoadSetupError('LOAD_API_UNREACHABLE', `the API does not answer: ${(error as Error).message}`, error);
  });
  if (health.status !== 200) throw new LoadSetupError('LOAD_API_UNREACHABLE', `GET /healthz answered ${health.status}`);

  const total = options.users + options.products;
  let done = 0;
  const admin = { authorization: `Bearer ${options.adminToken}` };
  const bodies = [
    ...Array.from({ length: options.products }, (_, i) => ({ path: '/admin/products', body: catalogProduct(options.runId, i, options.random, options.initialStock), headers: admin })),
    ...Array.from({ length: options.users }, (_, i) => ({ path: '/api/users', body: { email: `load-${options.runId}-${i}@load.example.com`, name: `Load user ${i}` }, headers: {} })),
  ];
  const results: Reply[] = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length && !options.signal?.aborted) {
      const index = next++;
      const { path, body, headers } = bodies[index]!;
      results[index] = await createOne(http, path, body, headers, options.signal);
      onProgress(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  if (options.signal?.aborted) throw new LoadSetupError('LOAD_ABORTED', 'stopped during the setup');
  return {
    products: results.slice(0, options.products).map((r) => ({ id: r.body.id as string, price: r.body.price as string })),
    users: results.slice(options.products).map((r) => r.body.id as string),
  };
}

async function createOne(http: HttpClient, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<Reply> {
  for (;;) {
    const reply = await http.call('POST', path, body, headers).catch((error) => {
      throw new LoadSetupError('LOAD_API_UNREACHABLE', `POST ${path} failed: ${(error as Error).message}`, error);
    });
    if (reply.status === 201) return reply;
    if (reply.status === 429 && !signal?.aborted) {
      await sleep(Number(reply.headers['retry-after'] ?? 1) * 1000, signal);
      continue;
    }
    const hint = reply.status === 401 || reply.status === 403 ? ' (the admin token is not valid for this API)' : '';
    throw new LoadSetupError('LOAD_SETUP_REFUSED', `POST ${path} answered ${reply.status} ${reply.code ?? ''}${hint}`.trim());
  }
}
