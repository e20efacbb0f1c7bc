import type { Request } from 'express';
import { z } from 'zod';
import type { Principal } from '../auth/tokens.js';
import { ValidationError } from '../core/errors.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import type { Order } from '../orders/model.js';
import type { IdempotencyKey } from '../orders/ports.js';
import { cancelOrder, capturePayment, changeOrderStatus, getOrder, getPayment, listOrders, placeOrder } from '../orders/order-service.js';
import { clientOf, defineRoute, type RouteSpec } from './route.js';
import {
  cancelBody,
  capturePaymentBody,
  changeStatusBody,
  createOrderBody,
  idempotencyKeyHeader,
  idParams,
  ifMatchHeader,
  listOrdersQuery,
  userIdParams,
  userOrdersQuery,
  uuid,
} from './schemas.js';
import { decodeCursor, encodeCursor, orderEtag, orderPage, orderView, paymentView, problemView, toOrderView, toPaymentView } from './views.js';

const problem = { description: 'problem details', schema: problemView };
const orderResult = (order: Order, status = 200) => ({ status, body: toOrderView(order), headers: { ETag: orderEtag(order) } });

/** A page position: createdAt (epoch µs, a time MySQL can hold) and id of the last order shown. */
const orderCursor = z.strictObject({ c: z.int().min(0), i: uuid });
const isOrderCursor = (v: unknown): v is z.infer<typeof orderCursor> => orderCursor.safeParse(v).success;

async function page(deps: OrderServiceDeps, query: { userId?: string; status?: Order['status']; limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, isOrderCursor);
  if (query.cursor !== undefined && !after) throw new ValidationError('the cursor is not one this API issued', [{ field: 'query:/cursor', message: 'invalid cursor' }]);
  const orders = await listOrders(deps, { userId: query.userId, status: query.status, limit: query.limit + 1, after: after && { createdAt: after.c, id: after.i } });
  const items = orders.slice(0, query.limit);
  const last = items[items.length - 1];
  const nextCursor = orders.length > query.limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null;
  return { status: 200, body: { items: items.map(toOrderView), nextCursor } };
}

/**
 * The Idempotency-Key of a request in its scope: the route and the client. The client is the
 * authenticated principal when there is one, else the client address (`req.ip`, the identity the
 * write rate limit uses): the same key from two clients, or on two routes, never collides.
 */
function idempotencyKey(route: string, headers: Record<string, unknown>, req: Request, principal: Principal | undefined): IdempotencyKey | undefined {
  const key = headers['Idempotency-Key'] as string | undefined;
  if (key === undefined) return undefined;
  return { route, client: clientOf(req, principal), key };
}

export function orderRoutes(deps: OrderServiceDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/orders',
      summary: 'Place an order (prices from the catalog, stock reserved)',
      tag: 'orders',
      write: true,
      body: createOrderBody,
      headers: [{ name: 'Idempotency-Key', description: 'Makes retries safe', schema: idempotencyKeyHeader }],
      responses: { 201: { description: 'the order', schema: orderView }, 400: problem, 404: problem, 409: problem, 422: problem, 429: problem },
      handle: async ({ body, headers, req, principal }) => {
        const { order, replayed } = await placeOrder(deps, body, idempotencyKey('POST /api/orders', headers, req, principal));
        const result = orderResult(order, 201);
        return { ...result, headers: { ...result.headers, Location: `/api/orders/${order.id}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/orders',
      summary: 'List orders, newest first (cursor pagination)',
      tag: 'orders',
      query: listOrdersQuery,
      responses: { 200: { description: 'a page of orders', schema: orderPage }, 400: problem },
      handle: ({ query }) => page(deps, query),
    }),
    defineRoute({
      method: 'get',
      path: '/api/orders/user/:userId',
      summary: "List a user's orders, newest first",
      tag: 'orders',
      params: userIdParams,
      query: userOrdersQuery,
      responses: { 200: { description: 'a page of orders', schema: orderPage }, 400: problem },
      handle: ({ params, query }) => page(deps, { ...query, userId: params.userId }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/orders/:id',
      summary: 'Get an order',
      tag: 'orders',
      params: idParams,
      responses: { 200: { description: 'the order (ETag: its version)', schema: orderView }, 404: problem },
      handle: async ({ params }) => orderResult(await getOrder(deps, params.id)),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/orders/:id/status',
      summary: 'Change the status of an order (SHIPPED, COMPLETED, CANCELLED, REFUNDED)',
      tag: 'orders',
      write: true,
      params: idParams,
      body: changeStatusBody,
      headers: [{ name: 'If-Match', description: 'Expected version', schema: ifMatchHeader }],
      responses: { 200: { description: 'the order', schema: orderView }, 400: problem, 404: problem, 409: problem },
      handle: async ({ params, body, headers }) =>
        orderResult(await changeOrderStatus(deps, { orderId: params.id, status: body.status, reason: body.reason, expectedVersion: headers['If-Match'] as number | undefined })),
    }),
    defineRoute({
      method: 'post',
      path: '/api/orders/:id/cancel',
      summary: 'Cancel an order (releases its stock)',
      tag: 'orders',
      write: true,
      params: idParams,
      body: cancelBody,
      headers: [{ name: 'If-Match', description: 'Expected version', schema: ifMatchHeader }],
      responses: { 200: { description: 'the order', schema: orderView }, 404: problem, 409: problem },
      handle: async ({ params, body, headers }) => orderResult(await cancelOrder(deps, params.id, body.reason, headers['If-Match'] as number | undefined)),
    }),
    defineRoute({
      method: 'post',
      path: '/api/payments',
      summary: 'Capture the payment of a PENDING order (amount must equal the total)',
      tag: 'payments',
      write: true,
      body: capturePaymentBody,
      headers: [{ name: 'Idempotency-Key', description: 'Makes retries safe', schema: idempotencyKeyHeader }],
      responses: { 201: { description: 'the payment', schema: paymentView }, 400: problem, 404: problem, 409: problem, 422: problem },
      handle: async ({ body, headers, req, principal }) => {
        const { payment, replayed } = await capturePayment(deps, body, idempotencyKey('POST /api/payments', headers, req, principal));
        return {
          status: 201,
          body: toPaymentView(payment),
          headers: { Location: `/api/payments/${payment.orderId}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/payments/:id',
      summary: 'Get the payment of an order (by order id)',
      tag: 'payments',
      params: idParams,
      responses: { 200: { description: 'the payment', schema: paymentView }, 404: problem },
      handle: async ({ params }) => ({ status: 200, body: toPaymentView(await getPayment(deps, params.id)) }),
    }),
  ];
}
