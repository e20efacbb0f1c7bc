import { z } from 'zod';
import type { AuditLog } from '../auth/tokens.js';
import { NotFoundError } from '../core/errors.js';
import type { OpsJobs } from './ports.js';
import { defineRoute, type RouteSpec } from './route.js';
import { problemView } from './views.js';

const problem = { description: 'problem details', schema: problemView };
const opsErrors = { 400: problem, 401: problem, 403: problem, 404: problem };
const jobView = z.object({
  id: z.string(),
  command: z.string(),
  state: z.enum(['running', 'done']),
  exitCode: z.number().int().nullable(),
  lines: z.array(z.string()),
  next: z.number().int(),
  progress: z.object({ phase: z.string(), done: z.number(), total: z.number() }).nullable(),
});

/**
 * Admin routes that run `replay` and `reconcile` in this process (admin role, audited): the CLI
 * starts a job and polls its output and progress.
 */
export function opsRoutes(jobs: OpsJobs, auditLog: AuditLog): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/admin/ops/jobs',
      summary: 'Start a long operation (replay, reconcile) in the process that owns the analytics engine',
      tag: 'admin',
      roles: ['admin'],
      body: z.object({ command: z.enum(jobs.commands as [string, ...string[]]), args: z.array(z.string().max(1_000)).max(50).default([]) }).strict(),
      responses: { 202: { description: 'the job', schema: z.object({ id: z.string() }) }, ...opsErrors },
      handle: async ({ body, audit }) => {
        await auditLog.record({ ...audit!, target: [body.command, ...body.args].join(' ').slice(0, 200) });
        const id = jobs.start(body.command, body.args);
        return { status: 202, body: { id }, headers: { Location: `/admin/ops/jobs/${id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/admin/ops/jobs/:id',
      summary: "A job's state, its output lines from `since` on, and its progress",
      tag: 'admin',
      roles: ['admin'],
      params: z.object({ id: z.string().regex(/^[a-f0-9]{16}$/) }),
      query: z.object({ since: z.coerce.number().int().min(0).max(10_000_000).default(0) }).strict(),
      responses: { 200: { description: 'the job', schema: jobView }, ...opsErrors },
      handle: async ({ params, query }) => {
        const job = jobs.view(params.id, query.since);
        if (!job) throw new NotFoundError('job', params.id, 'JOB_NOT_FOUND');
        return { status: 200, body: job };
      },
    }),
  ];
}
