import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { getInventory, getProduct, getUser, listProducts, registerUser } from '../orders/catalog-service.js';
import type { OrderServiceDeps } from '../orders/deps.js';
import { defineRoute, type RouteSpec } from './route.js';
import { idParams, listProductsQuery, productIdParams, registerUserBody, uuid } from './schemas.js';
import { decodeCursor, encodeCursor, inventoryView, problemView, productPage, productView, toInventoryView, toProductView, toUserView, userView } from './views.js';

const problem = { description: 'problem details', schema: problemView };
const idCursor = z.strictObject({ i: uuid });
const isIdCursor = (v: unknown): v is z.infer<typeof idCursor> => idCursor.safeParse(v).success;

export function catalogRoutes(deps: OrderServiceDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/products',
      summary: 'List catalog products (cursor pagination)',
      tag: 'catalog',
      query: listProductsQuery,
      responses: { 200: { description: 'a page of products', schema: productPage }, 400: problem },
      handle: async ({ query }) => {
        const after = decodeCursor(query.cursor, isIdCursor);
        if (query.cursor !== undefined && !after) throw new ValidationError('the cursor is not one this API issued', [{ field: 'query:/cursor', message: 'invalid cursor' }]);
        const products = await listProducts(deps, { limit: query.limit + 1, afterId: after?.i, category: query.category });
        const items = products.slice(0, query.limit);
        const nextCursor = products.length > query.limit ? encodeCursor({ i: items[items.length - 1]!.id }) : null;
        return { status: 200, body: { items: items.map(toProductView), nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/products/:id',
      summary: 'Get a product',
      tag: 'catalog',
      params: idParams,
      responses: { 200: { description: 'the product', schema: productView }, 404: problem },
      handle: async ({ params }) => ({ status: 200, body: toProductView(await getProduct(deps, params.id)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/inventory/:productId',
      summary: 'Stock of a product: on hand, reserved by open orders, available',
      tag: 'catalog',
      params: productIdParams,
      responses: { 200: { description: 'the stock', schema: inventoryView }, 404: problem },
      handle: async ({ params }) => ({ status: 200, body: toInventoryView(await getInventory(deps, params.productId)) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/users',
      summary: 'Register a user',
      tag: 'users',
      write: true,
      body: registerUserBody,
      responses: { 201: { description: 'the user', schema: userView }, 400: problem, 409: problem },
      handle: async ({ body }) => {
        const user = await registerUser(deps, body);
        return { status: 201, body: toUserView(user), headers: { Location: `/api/users/${user.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/users/:id',
      summary: 'Get a user',
      tag: 'users',
      params: idParams,
      responses: { 200: { description: 'the user', schema: userView }, 404: problem },
      handle: async ({ params }) => ({ status: 200, body: toUserView(await getUser(deps, params.id)) }),
    }),
  ];
}
