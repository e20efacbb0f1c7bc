import type { z } from 'zod';
import { fromZod } from './problem.js';

export type RequestPart = 'body' | 'query' | 'params' | 'headers';

/** Parses a part of the request with its schema; a typed ValidationError otherwise. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: RequestPart, name?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error, where, name);
  return result.data;
}
