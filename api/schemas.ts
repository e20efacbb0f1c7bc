import { z } from 'zod';
import { ROLES } from '../auth/tokens.js';
import { MAX_STOCK, ORDER_STATUSES, PAYMENT_METHODS } from '../orders/model.js';

/**
 * Request schemas. They validate requests and generate the OpenAPI document. Objects are strict
 * (unknown fields are rejected); money is a decimal string with at most 2 places, never a number.
 */
export const uuid = z.uuid().describe('UUID');

/** DECIMAL(12,2): up to 10 integer digits and 2 fraction digits, as a string. */
export const money = z
  .string()
  .regex(/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/, 'must be a decimal string with at most 10 integer digits and 2 decimal places, e.g. "19.99"')
  .describe('Decimal amount as a string, at most 2 decimal places');

export const positiveMoney = money.refine((value) => /[1-9]/.test(value), 'must be greater than 0');

export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD');

export const quantity = z.int().min(1).max(1_000);

export const orderStatus = z.enum(ORDER_STATUSES);

export const createOrderBody = z.strictObject({
  userId: uuid,
  items: z.array(z.strictObject({ productId: uuid, quantity })).min(1).max(100),
});

export const changeStatusBody = z.strictObject({
  status: orderStatus,
  reason: z.string().min(1).max(500).optional(),
});

export const cancelBody = z.strictObject({ reason: z.string().min(1).max(500).optional() });

export const capturePaymentBody = z.strictObject({
  orderId: uuid,
  method: z.enum(PAYMENT_METHODS),
  amount: positiveMoney,
});

export const registerUserBody = z.strictObject({
  email: z.email().max(254),
  name: z.string().trim().min(1).max(200),
});

export const deleteOrderBody = z.strictObject({ reason: z.string().trim().min(3).max(500) });

export const createProductBody = z.strictObject({
  sku: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -; at most 64'),
  name: z.string().trim().min(1).max(200),
  category: z.string().trim().min(1).max(100),
  price: money,
  currency: currency.default('USD'),
  initialStock: z.int().min(0).max(MAX_STOCK).default(0),
});

export const updateProductBody = z
  .strictObject({
    price: money.optional(),
    name: z.string().trim().min(1).max(200).optional(),
    category: z.string().trim().min(1).max(100).optional(),
    reason: z.string().max(500).optional(),
  })
  .refine((body) => body.price !== undefined || body.name !== undefined || body.category !== undefined, { message: 'give price, name or category', path: ['price'] });

export const adjustInventoryBody = z
  .strictObject({
    delta: z.int().min(-MAX_STOCK).max(MAX_STOCK).optional(),
    onHand: z.int().min(0).max(MAX_STOCK).optional(),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .refine((body) => (body.delta === undefined) !== (body.onHand === undefined), { message: 'give exactly one of delta and onHand', path: ['delta'] });

export const createTokenInput = z.strictObject({ name: z.string(), role: z.enum(ROLES) });

export const idParams = z.strictObject({ id: uuid });
export const userIdParams = z.strictObject({ userId: uuid });
export const productIdParams = z.strictObject({ productId: uuid });

const limit = z.coerce.number().int().min(1).max(100).default(20);
const cursor = z.string().max(200).optional().describe('nextCursor of the previous page');

export const listOrdersQuery = z.strictObject({ userId: uuid.optional(), status: orderStatus.optional(), limit, cursor });
export const userOrdersQuery = z.strictObject({ status: orderStatus.optional(), limit, cursor });
export const listProductsQuery = z.strictObject({ category: z.string().max(100).optional(), limit, cursor });
export const auditQuery = z.strictObject({ limit });

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, '1-200 visible ASCII characters')
  .optional()
  .describe('Repeating a request with the same key and body returns the first response; another body is 422');

export const ifMatchHeader = z
  .string()
  .regex(/^(W\/)?"?\d{1,9}"?$/, 'the order version, e.g. "3"')
  .optional()
  .transform((value) => (value === undefined ? undefined : Number(value.replace(/\D/g, ''))))
  .describe('The order version the client last saw; a newer one is a 409 VERSION_CONFLICT');

const isoDate = z.iso.date();

export const hourlySalesQuery = z.strictObject({ date: isoDate.optional() });

export const topProductsQuery = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional(), limit: z.coerce.number().int().min(1).max(1_000).default(10) })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

export const dailySalesQuery = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

export const statsQuery = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => (q.from === undefined) === (q.to === undefined), { message: 'give both from and to (a range), or neither (every order)', path: ['from'] })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
