import { z } from 'zod';

/** Request schemas: they validate requests and (later) generate the OpenAPI document. */
export const uuid = z.uuid();

export const createOrderBody = z.strictObject({
  userId: uuid,
  items: z
    .array(
      z.strictObject({
        productId: uuid,
        quantity: z.int().min(1).max(1_000),
      }),
    )
    .min(1)
    .max(100),
});

export const idParams = z.strictObject({ id: uuid });

const isoDate = z.iso.date();

export const dailySalesQuery = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
