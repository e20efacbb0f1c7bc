import { Router } from 'express';
import { getOrder, placeOrder, type OrderServiceDeps } from '../orders/service.js';
import type { Order } from '../orders/model.js';
import { microsToIso } from '../core/time.js';
import { createOrderBody, idParams } from './schemas.js';
import { parse } from './validate.js';

export function orderView(order: Order) {
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    totalAmount: order.totalAmount,
    currency: order.currency,
    version: order.version,
    items: order.items,
    createdAt: microsToIso(order.createdAt),
    updatedAt: microsToIso(order.updatedAt),
  };
}

export function ordersRouter(deps: OrderServiceDeps): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const order = await placeOrder(deps, parse(createOrderBody, req.body, 'body'));
    res.status(201).location(`/api/orders/${order.id}`).json(orderView(order));
  });
  router.get('/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    res.json(orderView(await getOrder(deps, id)));
  });
  return router;
}
