import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes, createApp, type ApiDeps } from '../../api/app.js';
import type { RouteSpec } from '../../api/route.js';
import { encodeCursor } from '../../api/views.js';
import { ClickHouseAnalytics } from '../../clickhouse/analytics.js';
import { createClickHouse } from '../../clickhouse/client.js';
import { migrateClickHouse } from '../../clickhouse/migrate.js';
import { mysqlAdminStore } from '../../mysql/admin-store.js';
import { adjustInventory, createProduct, registerUser } from '../../orders/catalog-service.js';
import { capturePayment, changeOrderStatus, deleteOrder, placeOrder } from '../../orders/order-service.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { uniqueId } from '../support/env.js';
import { adversarial, anyValue, printable, textValue, toJsonSchema, valid, type KnownIds } from '../support/schema-arbitrary.js';

/**
 * Property: for random requests to every route (derived from the route's own schemas, broken
 * one field at a time, or replaced by adversarial values), the real app on the real MariaDB and
 * the embedded ClickHouse never answers 5xx, and a refused request (4xx) changes no table.
 *
 * Reproducible: every route runs NUM_RUNS cases from the fixed seed SEED + its index, against a
 * freshly seeded database (a failure prints the seed and counterexample; shrinking is off so a
 * failing run stays short). The whole file takes about 10-20 s.
 */
const SEED = 20_261_203;
const NUM_RUNS = 60;

/** Every table a request could change; admin_audit is left out: every admin call, refused ones too, is audited by design. */
const TABLES = ['orders', 'order_items', 'payments', 'users', 'products', 'inventory', 'outbox', 'idempotency_keys', 'api_tokens'];

const routeName = (route: RouteSpec) => `${route.method.toUpperCase()} ${route.path}`;
/** The routes' names at collection time, before any connection exists (specs only close over their deps). */
const ROUTE_NAMES = apiRoutes({ orders: {} as never, admin: {} as never, analytics: {} as never }).map(routeName);

interface Call {
  method: string;
  path: string;
  query: string;
  body?: { text: string; contentType: string };
  headers: Record<string, string>;
}

describe('every route: random input never gets a 5xx, and a refusal changes nothing', () => {
  let api: ApiHarness;
  let clickhouse: ClickHouseClient;
  let clickhousePath: string;
  let server: Server;
  let url: string;
  let routes: RouteSpec[];
  const known: KnownIds = { all: [], byName: {} };

  beforeAll(async () => {
    api = await startApi();
    clickhousePath = mkdtempSync(join(tmpdir(), 'shopstream-props-'));
    const database = `analytics_p${uniqueId()}`;
    clickhouse = createClickHouse({ url: undefined, path: clickhousePath, database });
    await migrateClickHouse(clickhouse, database);

    const users = [await registerUser(api.deps, { email: 'prop@example.com', name: 'Prop' }), await registerUser(api.deps, { email: 'erty@example.com', name: 'Erty' })];
    const product = (sku: string, price: string, initialStock: number) => createProduct(api.deps, { sku, name: sku, category: 'Props', price, currency: 'USD', initialStock });
    const cheap = (await product('CHEAP', '1.00', 9_000_000)).product;
    const priciest = (await product('PRICIEST', '9999999999.99', 1_000)).product;
    const none = (await product('NONE', '2.50', 0)).product;
    await adjustInventory(api.deps, { productId: cheap.id, delta: 1_000_000 }); // at the 10,000,000 bound
    const place = async () => (await placeOrder(api.deps, { userId: users[0]!.id, items: [{ productId: cheap.id, quantity: 2 }] })).order;
    const pending = await place();
    const paid = await place();
    await capturePayment(api.deps, { orderId: paid.id, method: 'CARD', amount: paid.totalAmount });
    const shipped = await place();
    await capturePayment(api.deps, { orderId: shipped.id, method: 'PAYPAL', amount: shipped.totalAmount });
    await changeOrderStatus(api.deps, { orderId: shipped.id, status: 'SHIPPED' });
    const deleted = await place();
    await deleteOrder(api.deps, { orderId: deleted.id, actor: 'props', reason: 'seeded' });
    const userIds = users.map((u) => u.id);
    const orderIds = [pending.id, paid.id, shipped.id, deleted.id];
    known.all = [...userIds, cheap.id, priciest.id, none.id, ...orderIds];
    known.byName = {
      userId: userIds,
      // Mostly the well-stocked cheap product, so that orders often go through.
      productId: [cheap.id, cheap.id, cheap.id, cheap.id, priciest.id, none.id],
      orderId: orderIds,
      // Cursors this API could have issued (order and product positions), so pages get read too.
      cursor: [encodeCursor({ c: pending.createdAt, i: pending.id }), encodeCursor({ c: Date.now() * 1000 + 1e9, i: pending.id }), encodeCursor({ i: cheap.id }), encodeCursor({ i: none.id })],
    };

    const admin = mysqlAdminStore(api.pool);
    const deps: ApiDeps = {
      orders: api.deps,
      admin: { tokens: admin, audit: admin },
      analytics: { store: new ClickHouseAnalytics(clickhouse, database) },
    };
    routes = apiRoutes(deps);
    server = createServer(createApp(deps, { rateLimit: { perSecond: 0, burst: 0 } }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await clickhouse?.close();
    if (clickhousePath) rmSync(clickhousePath, { recursive: true, force: true });
    await api?.close();
  });

  const snapshot = async () => {
    const [rows] = (await api.pool.query(`CHECKSUM TABLE ${TABLES.join(', ')}`)) as unknown as [{ Table: string; Checksum: string | number }[]];
    return rows.map((row) => `${row.Table}=${row.Checksum}`);
  };

  async function send(call: Call): Promise<{ status: number; contentType: string | null; text: string }> {
    const response = await fetch(`${url}${call.path}${call.query ? `?${call.query}` : ''}`, {
      method: call.method.toUpperCase(),
      headers: { ...call.headers, ...(call.body ? { 'content-type': call.body.contentType } : {}) },
      body: call.body?.text,
      redirect: 'manual',
    });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  }

  function callsFor(route: RouteSpec): fc.Arbitrary<Call> {
    const paramNames = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1]!);
    const paramSchema = route.params ? toJsonSchema(route.params) : { properties: {} };
    // An `:id` names what its path is about.
    const idName = /^\/(api|admin)\/(orders|payments)/.test(route.path) ? 'orderId' : /products/.test(route.path) ? 'productId' : 'userId';
    const param = (name: string) =>
      fc.oneof(
        {
          arbitrary: valid((paramSchema as { properties: Record<string, object> }).properties[name] ?? { type: 'string' }, known, name === 'id' ? idName : name).map((v) =>
            encodeURIComponent(String(v)),
          ),
          weight: 7,
        },
        { arbitrary: textValue({ type: 'string' }, known).map(encodeURIComponent), weight: 2 },
        { arbitrary: fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '..', '%2e%2e'), weight: 1 },
      );
    const path = fc.tuple(...paramNames.map(param)).map((values) => paramNames.reduce((p, name, i) => p.replace(`:${name}`, values[i]!), route.path));

    const query = route.query
      ? fc.oneof(
          { arbitrary: anyValue(toJsonSchema(route.query), known).map(toQuery), weight: 9 },
          { arbitrary: fc.constantFrom('cursor=%E0%A4%A', 'limit=1&limit=2', 'limit[]=3', '__proto__[x]=1', 'limit=1e400', '&&&=', 'from=9999-12-31&to=9999-12-31'), weight: 1 },
        )
      : fc.oneof({ arbitrary: fc.constant(''), weight: 8 }, { arbitrary: adversarial.map((v) => toQuery({ extra: v })), weight: 2 });

    const json = (value: unknown) => ({ text: JSON.stringify(value) ?? 'null', contentType: 'application/json' });
    const rawBodies = fc.constantFrom(
      { text: '{"userId": ', contentType: 'application/json' },
      { text: 'null', contentType: 'application/json' },
      { text: '"text"', contentType: 'application/json' },
      { text: '[]', contentType: 'application/json' },
      { text: '\ufeff{}', contentType: 'application/json' },
      { text: '{"a":1}', contentType: 'application/json; charset=utf-16' },
      { text: 'userId=1', contentType: 'application/x-www-form-urlencoded' },
      { text: '{}', contentType: 'text/plain' },
      { text: `{"reason":"${'x'.repeat(70_000)}"}`, contentType: 'application/json' },
    );
    const body: fc.Arbitrary<Call['body']> =
      route.method === 'get'
        ? fc.constant(undefined)
        : route.body
          ? fc.oneof({ arbitrary: anyValue(toJsonSchema(route.body), known).map(json), weight: 9 }, { arbitrary: rawBodies, weight: 1 })
          : fc.oneof(fc.constant(undefined), adversarial.map(json));

    const ascii = (value: string) => value.replace(/[^\x20-\x7e]/g, '').trim();
    const declared = (route.headers ?? []).map((header) =>
      fc.option(textValue(toJsonSchema(header.schema), known).map((value) => [header.name, ascii(value)] as const), { nil: undefined }),
    );
    const anyAuthorization = fc.constantFrom<(string | undefined)[]>(`Bearer ${api.adminToken}`, `Bearer ${api.viewerToken}`, 'Bearer not-a-token', 'Basic YTpi', undefined);
    // Admin routes get a valid admin token most of the time, so their handlers run.
    const authorization = route.roles ? fc.oneof({ arbitrary: fc.constant(`Bearer ${api.adminToken}`), weight: 3 }, { arbitrary: anyAuthorization, weight: 2 }) : anyAuthorization;
    const claimed = fc.option(printable.map(ascii), { nil: undefined, freq: 4 });
    const headers = fc.tuple(fc.tuple(...declared), authorization, claimed).map(([pairs, auth, adminId]) => ({
      ...Object.fromEntries(pairs.filter((pair): pair is readonly [string, string] => pair !== undefined && pair[1] !== '')),
      ...(auth ? { authorization: auth } : {}),
      ...(adminId ? { 'x-admin-id': adminId } : {}),
    }));
    return fc.record({ path, query, body, headers }).map((call) => ({ method: route.method, ...call }));
  }

  it('covers every route the app serves', () => {
    expect(routes.map(routeName)).toEqual(ROUTE_NAMES);
    expect(new Set(routes.map((route) => route.tag))).toEqual(new Set(['orders', 'payments', 'catalog', 'users', 'admin', 'analytics']));
  });

  for (const [index, name] of ROUTE_NAMES.entries()) {
    it(name, async () => {
      const route = routes.find((candidate) => routeName(candidate) === name)!;
      await fc.assert(
        fc.asyncProperty(callsFor(route), async (call) => {
          const before = await snapshot();
          const response = await send(call);
          const what = `${route.method.toUpperCase()} ${route.path} → ${response.status} ${response.text.slice(0, 300)}`;
          expect(response.status, what).toBeLessThan(500);
          if (response.status >= 400) {
            if (response.status !== 431) expect(response.contentType, what).toMatch(/^application\/problem\+json/);
            expect(await snapshot(), `a refused request changed a table: ${what}`).toEqual(before);
          }
        }),
        { seed: SEED + index, numRuns: NUM_RUNS, endOnFailure: true },
      );
    }, 120_000);
  }
});

/** An object as a query string: arrays repeat the key, other non-strings are their JSON. */
function toQuery(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return new URLSearchParams({ q: JSON.stringify(value) ?? '' }).toString();
  const params = new URLSearchParams();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) params.append(key, typeof item === 'string' ? item : (JSON.stringify(item) ?? ''));
  }
  return params.toString();
}
