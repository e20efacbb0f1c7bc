import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import { IdempotencyKeyPurger } from '../../orders/idempotency-retention.js';
import { startApi, type ApiHarness } from '../support/api.js';

/** A POST sent from a given loopback address: another client, as the API tells clients apart. */
function postFrom(localAddress: string, url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('Idempotency-Key scope and retention', () => {
  let api: ApiHarness;
  let userId: string;
  let productId: string;
  const order = () => ({ userId, items: [{ productId, quantity: 1 }] });
  const keyRows = async (keys: string[]) =>
    ((await api.pool.query('SELECT idem_key, route, client FROM idempotency_keys WHERE idem_key IN (?) ORDER BY idem_key, route, client', [keys])) as unknown as [
      { idem_key: string; route: string; client: string }[],
    ])[0];
  const age = (keys: string[], hours: number) => api.pool.query('UPDATE idempotency_keys SET created_at = created_at - INTERVAL ? HOUR WHERE idem_key IN (?)', [hours, keys]);

  beforeAll(async () => {
    api = await startApi();
    userId = (await registerUser(api.deps, { email: 'idem@example.com', name: 'Idem' })).id;
    productId = (await createProduct(api.deps, { sku: 'I-1', name: 'Key', category: 'Tools', price: '3.00', currency: 'USD', initialStock: 1_000 })).product.id;
  });
  afterAll(() => api?.close());

  it('keeps the same key from two clients apart: each gets its own order, each replays its own', async () => {
    const key = { 'Idempotency-Key': 'shared-by-two-clients' };
    const one = await postFrom('127.0.0.1', `${api.url}/api/orders`, order(), key);
    const two = await postFrom('127.0.0.2', `${api.url}/api/orders`, order(), key);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.headers['idempotent-replayed']).toBeUndefined();
    expect(two.body.id).not.toBe(one.body.id);
    const again = await postFrom('127.0.0.2', `${api.url}/api/orders`, order(), key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(two.body.id);
    expect(await keyRows(['shared-by-two-clients'])).toEqual([
      { idem_key: 'shared-by-two-clients', route: 'POST /api/orders', client: 'ip:127.0.0.1' },
      { idem_key: 'shared-by-two-clients', route: 'POST /api/orders', client: 'ip:127.0.0.2' },
    ]);
  });

  it('keeps the same key on two routes apart, and replays a payment under its key', async () => {
    const key = { 'Idempotency-Key': 'order-then-payment' };
    const placed = await api.call('POST', '/api/orders', order(), key);
    expect(placed.status).toBe(201);
    const paid = await api.call('POST', '/api/payments', { orderId: placed.body.id, method: 'CARD', amount: '3.00' }, key);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const before = await api.counts();
    const repeat = await api.call('POST', '/api/payments', { orderId: placed.body.id, method: 'CARD', amount: '3.00' }, key);
    expect(repeat.status).toBe(201);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.body).toEqual(paid.body);
    expect(await api.counts()).toEqual(before);
    const other = await api.call('POST', '/api/payments', { orderId: placed.body.id, method: 'PAYPAL', amount: '3.00' }, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('purges keys older than the retention in batches and keeps the fresh ones', async () => {
    const expired = ['old-1', 'old-2', 'old-3', 'old-4', 'old-5'];
    const fresh = ['new-1', 'new-2'];
    const placed = new Map<string, string>();
    for (const key of [...expired, ...fresh]) placed.set(key, (await api.call('POST', '/api/orders', order(), { 'Idempotency-Key': key })).body.id);
    await age(expired, 25);
    await age(['new-2'], 23); // inside the 24 h retention

    const purger = new IdempotencyKeyPurger(mysqlOrderStore(api.pool), { batch: 2 });
    expect(await purger.purge()).toBeGreaterThanOrEqual(expired.length);
    expect((await keyRows([...expired, ...fresh])).map((row) => row.idem_key)).toEqual(fresh);

    // An expired key is new again; a fresh one still replays.
    const reused = await api.call('POST', '/api/orders', order(), { 'Idempotency-Key': 'old-1' });
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    expect(reused.body.id).not.toBe(placed.get('old-1'));
    const replayed = await api.call('POST', '/api/orders', order(), { 'Idempotency-Key': 'new-2' });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.id).toBe(placed.get('new-2'));
  });

  it('purges on its own every interval once started, until stopped', async () => {
    await api.call('POST', '/api/orders', order(), { 'Idempotency-Key': 'timer-old' });
    await api.call('POST', '/api/orders', order(), { 'Idempotency-Key': 'timer-new' });
    await age(['timer-old'], 48);
    const purger = new IdempotencyKeyPurger(mysqlOrderStore(api.pool), { intervalMs: 20 });
    purger.start();
    try {
      await waitFor(async () => ((await keyRows(['timer-old'])).length === 0 ? true : undefined), { timeoutMs: 5_000, intervalMs: 20, describe: 'the expired key to be purged' });
    } finally {
      await purger.stop();
    }
    expect((await keyRows(['timer-old', 'timer-new'])).map((row) => row.idem_key)).toEqual(['timer-new']);
  });
});
