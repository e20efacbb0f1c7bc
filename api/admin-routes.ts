import { z } from 'zod';
import type { AuditEntry, AuditLog } from '../auth/tokens.js';
import { microsToIso } from '../core/time.js';
import { adjustInventory, createProduct, updateProduct } from '../orders/catalog-service.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import { deleteOrder } from '../orders/order-service.js';
import { defineRoute, type RouteSpec } from './route.js';
import { adjustInventoryBody, auditQuery, createProductBody, deleteOrderBody, idParams, productIdParams, updateProductBody } from './schemas.js';
import { inventoryView, problemView, productView, toInventoryView, toProductView } from './views.js';

const problem = { description: 'problem details', schema: problemView };
const adminErrors = { 400: problem, 401: problem, 403: problem, 404: problem, 409: problem };
const auditView = z.object({ items: z.array(z.object({ actor: z.string(), action: z.string(), target: z.string().nullable(), reason: z.string().nullable(), outcome: z.string(), at: z.string() })) });

/**
 * Admin routes: bearer token required (401), role checked (403), every call audited. A change
 * writes its audit row in its own transaction (the use case gets `audit`); a read records its
 * row before answering. Refused calls are audited by `mount`.
 */
export function adminRoutes(deps: OrderServiceDeps, auditLog: AuditLog & { listAudit(limit: number): Promise<(AuditEntry & { at: number })[]> }): RouteSpec[] {
  return [
    defineRoute({
      method: 'delete',
      path: '/admin/orders/:id',
      summary: 'Soft-delete an order, with a reason (emits OrderDeleted)',
      tag: 'admin',
      roles: ['admin'],
      write: true,
      params: idParams,
      body: deleteOrderBody,
      responses: { 204: { description: 'deleted' }, ...adminErrors },
      handle: async ({ params, body, principal, audit }) => {
        await deleteOrder(deps, { orderId: params.id, actor: principal!.name, reason: body.reason }, audit);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/admin/products',
      summary: 'Create a catalog product with its initial stock',
      tag: 'admin',
      roles: ['admin'],
      write: true,
      body: createProductBody,
      responses: { 201: { description: 'the product', schema: productView }, ...adminErrors },
      handle: async ({ body, audit }) => {
        const { product } = await createProduct(deps, body, audit);
        return { status: 201, body: toProductView(product), headers: { Location: `/api/products/${product.id}` } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/admin/products/:id',
      summary: "Change a product's price, name or category (placed orders keep their prices and names)",
      tag: 'admin',
      roles: ['admin'],
      write: true,
      params: idParams,
      body: updateProductBody,
      responses: { 200: { description: 'the product', schema: productView }, ...adminErrors },
      handle: async ({ params, body, audit }) => ({ status: 200, body: toProductView(await updateProduct(deps, { productId: params.id, price: body.price, name: body.name, category: body.category }, audit)) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/admin/inventory/:productId',
      summary: 'Adjust stock on hand (by delta, or set onHand)',
      tag: 'admin',
      roles: ['admin'],
      write: true,
      params: productIdParams,
      body: adjustInventoryBody,
      responses: { 200: { description: 'the stock', schema: inventoryView }, ...adminErrors },
      handle: async ({ params, body, audit }) => ({
        status: 200,
        body: toInventoryView(await adjustInventory(deps, { productId: params.productId, ...body }, audit)),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/admin/audit',
      summary: 'The admin audit log, newest first',
      tag: 'admin',
      roles: ['admin', 'viewer'],
      query: auditQuery,
      responses: { 200: { description: 'audit entries', schema: auditView }, 401: problem, 403: problem },
      handle: async ({ query, audit }) => {
        await auditLog.record(audit!);
        return {
          status: 200,
          body: { items: (await auditLog.listAudit(query.limit)).map(({ tokenId: _t, detail: _d, at, ...entry }) => ({ ...entry, at: microsToIso(at) })) },
        };
      },
    }),
  ];
}
