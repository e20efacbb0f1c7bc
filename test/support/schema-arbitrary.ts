import fc from 'fast-check';
import { z } from 'zod';

/**
 * fast-check arbitraries derived from the routes' zod schemas (through their JSON Schema, the
 * same one the OpenAPI document shows), plus adversarial values and mutations of valid ones.
 */
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

export function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** Ids the generators pick from, so valid-looking requests reach real rows: by field name (userId, productId...), else any. */
export interface KnownIds {
  all: string[];
  byName: Record<string, string[]>;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 40 });

/** Values no schema should let through to the database (or that it must handle exactly). */
export const adversarial: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    1e308,
    -1e308,
    2 ** 53 + 2,
    -(2 ** 63),
    2 ** 31,
    -1,
    0,
    -0,
    0.1,
    1.5,
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '-1',
    '0x10',
    '9999999999.999',
    '99999999999.99',
    '10000000000',
    '',
    ' ',
    '\u0000',
    '\u202e\u0301',
    '😀'.repeat(260),
    'x'.repeat(5_000),
    "'; DROP TABLE orders; --",
    '__proto__',
    null,
    true,
    false,
    [],
    {},
    { __proto__: { polluted: true } },
    '0000-01-01',
    '9999-12-31',
    '2026-02-30',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => Number(n)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 50, max: 400 }).map((depth) => nest(depth)),
  fc.array(fc.constant({ productId: '00000000-0000-4000-8000-000000000001', quantity: 1 }), { minLength: 101, maxLength: 300 }),
);

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

/** Valid values of `schema`; strings matching its patterns, uuids mostly from `known`. */
export function valid(schema: JsonSchema, known: KnownIds, name?: string): fc.Arbitrary<unknown> {
  if (schema.anyOf ?? schema.oneOf) return fc.oneof(...(schema.anyOf ?? schema.oneOf)!.map((s) => valid(s, known, name)));
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf), known, name);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, valid(property, known, key)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) });
    }
    case 'array':
      return fc.array(valid(schema.items ?? {}, known, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 10, 100), size: 'small' });
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -(2 ** 31));
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 2 ** 31);
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      return validString(schema, known, name);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(schema: JsonSchema, known: KnownIds, name?: string): fc.Arbitrary<string> {
  const pool = name ? known.byName[name] : undefined;
  if (schema.format === 'uuid') {
    return fc.oneof({ arbitrary: fc.constantFrom(...(pool ?? known.all)), weight: 18 }, { arbitrary: fc.constantFrom(...known.all), weight: 1 }, { arbitrary: fc.uuid(), weight: 1 });
  }
  if (schema.format === 'email') {
    const word = (min: number, max: number) => fc.stringMatching(new RegExp(`^[a-z0-9]{${min},${max}}$`));
    return fc.tuple(word(1, 30), word(1, 20), fc.stringMatching(/^[a-z]{2,6}$/)).map(([local, domain, tld]) => `${local}@${domain}.${tld}`);
  }
  if (schema.format === 'date') {
    return fc.date({ min: new Date('1900-01-01'), max: new Date('2200-12-31'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
  }
  if (pool) return fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 3 }, { arbitrary: validString(schema, known), weight: 1 });
  const base = schema.pattern ? fc.stringMatching(new RegExp(schema.pattern)) : fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 50, 600) });
  return base.filter((value) => value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity));
}

/**
 * Valid values, valid values with one field broken (replaced, removed, or an unknown one added)
 * and adversarial values in place of the whole thing.
 */
export function anyValue(schema: JsonSchema, known: KnownIds): fc.Arbitrary<unknown> {
  const good = valid(schema, known);
  const broken = fc.tuple(good, fc.nat(), adversarial, fc.constantFrom('replace', 'remove', 'add', 'nest')).map(([value, pick, bad, how]) => mutate(value, pick, bad, how));
  return fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: broken, weight: 3 }, { arbitrary: adversarial, weight: 1 });
}

/** Breaks one (possibly nested) field of `value`. */
function mutate(value: unknown, pick: number, bad: unknown, how: string): unknown {
  if (value === null || typeof value !== 'object') return bad;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (how === 'add' || keys.length === 0) {
    (copy as Record<string, unknown>)[Array.isArray(copy) ? String(copy.length) : `extra${pick % 3}`] = bad;
    return copy;
  }
  const key = keys[pick % keys.length]!;
  const target = (copy as Record<string, unknown>)[key];
  if (how === 'nest' && target !== null && typeof target === 'object') (copy as Record<string, unknown>)[key] = mutate(target, Math.floor(pick / 7), bad, 'replace');
  else if (how === 'remove' && !Array.isArray(copy)) delete copy[key];
  else (copy as Record<string, unknown>)[key] = bad;
  return copy;
}

/** A query-string or header value: the text of a valid value, or adversarial text. */
export function textValue(schema: JsonSchema, known: KnownIds, name?: string): fc.Arbitrary<string> {
  const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');
  return fc.oneof({ arbitrary: valid(schema, known, name).map(asText), weight: 7 }, { arbitrary: adversarial.map(asText), weight: 2 }, { arbitrary: printable, weight: 1 });
}

export { printable };
