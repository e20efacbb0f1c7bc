import { z } from 'zod';
import type { PipelineHealthReader } from './ports.js';
import { defineRoute, type RouteSpec } from './route.js';

const seconds = z.number().min(0);
const pipelineHealthView = z.object({
  status: z.enum(['ok', 'degraded']).describe('degraded when any check fails'),
  at: z.iso.datetime({ offset: true }),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })).describe("The alert rules' conditions on the current values"),
  freshness: z
    .object({ canaryAgeSeconds: seconds, lostInWindow: z.number().int().min(0), roundTripP99Seconds: seconds.nullable() })
    .nullable()
    .describe('The canary as this process watches it (api role); null without it'),
  outbox: z.object({ backlog: z.number().int().min(0), oldestAgeSeconds: seconds, parked: z.number().int().min(0) }).nullable().describe('Relay role; null without it'),
  consumers: z.array(z.object({ group: z.string(), stage: z.string(), status: z.string(), lagMessages: z.number().int().min(0), lagSeconds: seconds })).describe('Monitor role'),
  latency: z.object({
    windowSeconds: z.number().int().min(0),
    stages: z.array(z.object({ stage: z.string(), count: z.number().int().min(0), p50Seconds: seconds.nullable(), p99Seconds: seconds.nullable() })),
  }),
  roles: z.array(z.object({ role: z.string(), up: z.boolean() })),
});

/** The pipeline's health from this process's instruments (what its /metrics exports), as JSON. */
export function pipelineRoutes(health: PipelineHealthReader): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/pipeline/health',
      summary: "Freshness, outbox backlog, consumer lag, commit → queryable latency, parked events and roles, from this process's metrics, with an ok/degraded verdict",
      tag: 'pipeline',
      responses: { 200: { description: 'the health view (degraded is still 200)', schema: pipelineHealthView } },
      handle: async () => ({ status: 200, body: await health.read(), headers: { 'cache-control': 'no-store' } }),
    }),
  ];
}
