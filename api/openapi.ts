import { z } from 'zod';
import type { RouteSpec } from './route.js';
import { problemView } from './views.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Query and path parameters from an object schema's properties. */
function parameters(schema: z.ZodType | undefined, location: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

/**
 * The OpenAPI 3.1 document of the routes, generated from the very schemas that validate
 * requests (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 */
export function openApiDocument(routes: RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const operation: JsonSchema = {
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      parameters: [
        ...parameters(route.params, 'path'),
        ...parameters(route.query, 'query'),
        ...(route.headers ?? []).map((header) => ({ name: header.name, in: 'header', required: false, description: header.description, schema: jsonSchema(header.schema, 'input') })),
      ],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema
              ? { content: { [Number(status) >= 400 ? 'application/problem+json' : 'application/json']: { schema: jsonSchema(response.schema, 'output') } } }
              : {}),
          },
        ]),
      ),
    };
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
    if (route.roles) operation.security = [{ bearer: [] }];
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'shopstream API', version, description: 'Orders, payments, catalog, admin and analytics. Errors are application/problem+json.' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'npx shopstream admin create-token --name <who> --role admin|viewer' } },
      schemas: { Problem: jsonSchema(problemView, 'output') },
    },
  };
}
