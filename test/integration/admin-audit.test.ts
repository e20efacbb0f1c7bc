import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiOptions } from '../../api/app.js';
import { DependencyError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { createProduct, registerUser } from '../../orders/catalog-service.js';
import type { OrderServiceDeps } from '../../orders/deps.js';
import type { OrderStore } from '../../orders/ports.js';
import { startApi, type ApiHarness } from '../support/api.js';

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('api-under-test', { destination }), lines };
}

/** Another app on the harness's database (other deps or options), listening on a free port. */
async function serveApp(api: ApiHarness, orders: OrderServiceDeps, options: Partial<ApiOptions>) {
  const admin = mysqlAdminStore(api.pool);
  const server = createServer(createApp({ orders, admin: { tokens: admin, audit: admin } }, { rateLimit: { perSecond: 0, burst: 0 }, ...options }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    call: async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, type: response.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('admin audit without holes', () => {
  let api: ApiHarness;
  let userId: string;
  let productId: string;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    api = await startApi();
    userId = (await registerUser(api.deps, { email: 'audit@example.com', name: 'Audit' })).id;
    productId = (await createProduct(api.deps, { sku: 'AUD-1', name: 'Ledger', category: 'Office', price: '8.00', currency: 'USD', initialStock: 100 })).product.id;
  });
  afterAll(() => api?.close());

  const placeOrder = async () => (await api.call('POST', '/api/orders', { userId, items: [{ productId, quantity: 2 }] })).body as { id: string };
  const auditRows = async () =>
    (
      (await api.pool.query('SELECT actor, token_id, action, target, reason, outcome, detail FROM admin_audit ORDER BY id')) as unknown as [
        { actor: string; token_id: string | null; action: string; target: string | null; reason: string | null; outcome: string; detail: string | null }[],
      ]
    )[0];
  /** The audit rows a call added. */
  async function audited(call: () => Promise<unknown>) {
    const before = (await auditRows()).length;
    await call();
    return (await auditRows()).slice(before);
  }
  const orderState = async (id: string) => {
    const [[order]] = (await api.pool.query('SELECT deleted_at, version FROM orders WHERE id = ?', [id])) as unknown as [[{ deleted_at: string | null; version: number }]];
    const [[events]] = (await api.pool.query("SELECT COUNT(*) AS n FROM outbox WHERE aggregate_id = ? AND event_type = 'OrderDeleted'", [id])) as unknown as [[{ n: number }]];
    return { deleted: order!.deleted_at !== null, version: order!.version, deleteEvents: Number(events!.n) };
  };

  it('audits refused calls, including those refused before any handler: 413, malformed JSON, 401, 403, 400, 404, 409, unknown route', async () => {
    const order = await placeOrder();
    const path = `/admin/orders/${order.id}`;
    const admin = bearer(api.adminToken);
    const cases: [string, () => Promise<unknown>, Partial<Awaited<ReturnType<typeof auditRows>>[number]>][] = [
      ['413', () => api.call('DELETE', path, `{"reason":"${'x'.repeat(70_000)}"}`, admin), { actor: 'alice', target: order.id, outcome: 'rejected', detail: expect.stringMatching(/^413 PAYLOAD_TOO_LARGE/) }],
      ['malformed JSON', () => api.call('DELETE', path, '{"reason": ', admin), { actor: 'alice', outcome: 'rejected', detail: expect.stringMatching(/^400 MALFORMED_JSON/) }],
      ['401', () => api.call('DELETE', path, { reason: 'no token' }), { actor: 'unauthenticated', token_id: null, outcome: 'rejected', detail: expect.stringMatching(/^401 UNAUTHORIZED/) }],
      ['403', () => api.call('DELETE', path, { reason: 'viewer' }, bearer(api.viewerToken)), { actor: 'victor', outcome: 'rejected', detail: expect.stringMatching(/^403 FORBIDDEN/) }],
      ['400', () => api.call('DELETE', path, { reason: 'x', extra: 1 }, admin), { actor: 'alice', outcome: 'rejected', detail: expect.stringMatching(/^400 VALIDATION_FAILED/) }],
      ['404', () => api.call('DELETE', '/admin/orders/00000000-0000-4000-8000-0000000000aa', { reason: 'nothing' }, admin), { reason: 'nothing', detail: expect.stringMatching(/^404 ORDER_NOT_FOUND/) }],
      ['409', () => api.call('PATCH', `/admin/inventory/${productId}`, { onHand: 0, reason: 'stocktake' }, admin), { reason: 'stocktake', detail: expect.stringMatching(/^409 STOCK_BELOW_RESERVED/) }],
      ['unknown admin route', () => api.call('POST', '/admin/orders/purge', {}, admin), { actor: 'alice', action: 'POST /admin/orders/purge', outcome: 'rejected', detail: expect.stringMatching(/^404 ROUTE_NOT_FOUND/) }],
    ];
    for (const [name, call, expected] of cases) {
      const rows = await audited(call);
      expect(rows, name).toHaveLength(1);
      expect(rows[0], name).toMatchObject(expected);
    }
    expect(await orderState(order.id)).toEqual({ deleted: false, version: 1, deleteEvents: 0 });
  });

  it('audits a call refused by the rate limit (429), by who asked when known, else by address', async () => {
    const limited = await serveApp(api, api.deps, { rateLimit: { perSecond: 0.1, burst: 1 } }); // 1 write per 10 s
    try {
      const path = `/admin/products/${productId}`;
      expect((await limited.call('PATCH', path, { price: '8.00' }, bearer(api.adminToken))).status).toBe(200);
      const rows = await audited(async () => expect((await limited.call('PATCH', path, { price: '9.00' }, bearer(api.adminToken))).status).toBe(429));
      expect(rows).toEqual([expect.objectContaining({ actor: 'alice', action: 'PATCH /admin/products/:id', target: productId, outcome: 'rejected', detail: expect.stringMatching(/^429 RATE_LIMITED/) })]);
      // Without a valid token the address pays: the first bad-token call is a 401, the next a 429.
      expect((await limited.call('PATCH', path, { price: '9.00' }, { Authorization: 'Bearer nope' })).status).toBe(401);
      const anonymous = await audited(async () => expect((await limited.call('PATCH', path, { price: '9.00' })).status).toBe(429));
      expect(anonymous).toEqual([expect.objectContaining({ actor: 'unauthenticated', outcome: 'rejected', detail: expect.stringMatching(/^429 RATE_LIMITED/) })]);
    } finally {
      await limited.close();
    }
  });

  it('writes the row of every accepted admin change in the change\'s own transaction, and of every read before answering', async () => {
    const admin = bearer(api.adminToken);
    const order = await placeOrder();
    const calls: [() => Promise<{ status: number; body: any }>, number, string][] = [
      [() => api.call('DELETE', `/admin/orders/${order.id}`, { reason: 'duplicate' }, admin), 204, 'DELETE /admin/orders/:id'],
      [() => api.call('POST', '/admin/products', { sku: 'AUD-2', name: 'Pen', category: 'Office', price: '1.50' }, admin), 201, 'POST /admin/products'],
      [() => api.call('PATCH', `/admin/products/${productId}`, { price: '8.50', reason: 'inflation' }, admin), 200, 'PATCH /admin/products/:id'],
      [() => api.call('PATCH', `/admin/inventory/${productId}`, { delta: 5, reason: 'delivery' }, admin), 200, 'PATCH /admin/inventory/:productId'],
      [() => api.call('GET', '/admin/audit?limit=1', undefined, bearer(api.viewerToken)), 200, 'GET /admin/audit'],
    ];
    for (const [call, status, action] of calls) {
      const rows = await audited(async () => expect((await call()).status, action).toBe(status));
      expect(rows, action).toEqual([expect.objectContaining({ action, outcome: 'ok', detail: null })]);
    }
    expect((await auditRows()).at(-1)!.actor).toBe('victor');
    expect(await orderState(order.id)).toEqual({ deleted: true, version: 2, deleteEvents: 1 });
  });

  it('an audit row that cannot be written in the transaction rolls the delete back: a clean 503, nothing deleted', async () => {
    // The store of the app under test fails every audit write of a transaction, as MySQL would.
    const failingAudit: OrderStore = {
      ...api.deps.store,
      transaction: (work) =>
        api.deps.store.transaction((uow) =>
          work({ ...uow, appendAudit: async () => Promise.reject(new DependencyError('mysql', 'the database is unavailable (injected audit failure)')) }),
        ),
    };
    const { logger } = capturedLogger();
    const app = await serveApp(api, { store: failingAudit }, { logger });
    try {
      const order = await placeOrder();
      const before = await api.counts();
      const response = await app.call('DELETE', `/admin/orders/${order.id}`, { reason: 'fraud' }, bearer(api.adminToken));
      expect(response.status).toBe(503);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.code).toBe('MYSQL_UNAVAILABLE');
      expect(await orderState(order.id)).toEqual({ deleted: false, version: 1, deleteEvents: 0 });
      expect(await api.counts()).toEqual(before);
      expect((await auditRows()).at(-1)).toMatchObject({ action: 'DELETE /admin/orders/:id', target: order.id, outcome: 'failed', detail: expect.stringMatching(/^503 MYSQL_UNAVAILABLE/) });
    } finally {
      await app.close();
    }
  });

  it('with the audit table gone in MariaDB: no committed delete without its row, and refusals keep their answers', async () => {
    const { logger, lines } = capturedLogger();
    const app = await serveApp(api, api.deps, { logger });
    const order = await placeOrder();
    const before = await api.counts();
    await api.pool.query('RENAME TABLE admin_audit TO admin_audit_away');
    try {
      const response = await app.call('DELETE', `/admin/orders/${order.id}`, { reason: 'fraud' }, bearer(api.adminToken));
      expect(response.status).toBe(500);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.code).toBe('INTERNAL');
      expect(await orderState(order.id)).toEqual({ deleted: false, version: 1, deleteEvents: 0 });
      expect(await api.counts()).toEqual(before);
      // A refused call whose audit row cannot be written: the same answer, and the failure logged.
      const refused = await app.call('DELETE', `/admin/orders/${order.id}`, { reason: 'fraud' });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('UNAUTHORIZED');
      const logged = lines.filter((line) => line.msg === 'the audit row of a refused admin call could not be written');
      expect(logged.map((line) => line.entry.outcome)).toEqual(['failed', 'rejected']);
      expect(logged[1]).toMatchObject({ level: 'error', entry: { actor: 'unauthenticated', target: order.id }, error: { code: 'ER_NO_SUCH_TABLE', stack: expect.any(String) } });
    } finally {
      await api.pool.query('RENAME TABLE admin_audit_away TO admin_audit');
      await app.close();
    }
    // Once the table is back, the delete goes through with its row.
    const rows = await audited(async () => expect((await api.call('DELETE', `/admin/orders/${order.id}`, { reason: 'fraud' }, bearer(api.adminToken))).status).toBe(204));
    expect(rows).toEqual([expect.objectContaining({ actor: 'alice', target: order.id, reason: 'fraud', outcome: 'ok' })]);
  });
});
