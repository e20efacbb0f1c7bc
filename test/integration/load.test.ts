import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadSummary } from '../../load/load.js';
import { OPERATION_NAMES } from '../../load/mix.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { entry } from '../support/env.js';

const BIN = fileURLToPath(new URL('../../bin/shopstream.js', import.meta.url));

/** `shopstream load …` in a process of its own, with MYSQL_URL on the API's database (where it makes its token). */
function runLoadCli(args: string[], databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'load', ...args], { env: { ...process.env, MYSQL_URL: databaseUrl, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('shopstream load against the real API and MariaDB', () => {
  let api: ApiHarness;
  let databaseUrl: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let summary: LoadSummary;
  const rows = async <T>(sql: string) => ((await api.pool.query(sql)) as unknown as [T[]])[0];

  beforeAll(async () => {
    api = await startApi();
    const [{ db }] = await rows<{ db: string }>('SELECT DATABASE() AS db');
    const url = new URL(entry.mysql.url);
    url.pathname = `/${db}`;
    databaseUrl = url.toString();
    // Rare operations weigh more than in the shop mix so that a short run shows each of them.
    const mix = 'create=30,pay=20,ship=14,complete=10,cancel=8,refund=8,delete=5,invalid=5';
    run = await runLoadCli(['--url', api.url, '--rate', '60', '--duration', '6', '--concurrency', '8', '--users', '40', '--products', '10', '--mix', mix, '--seed', '20261203', '--json'], databaseUrl);
    summary = JSON.parse(run.stdout);
  }, 120_000);

  afterAll(async () => {
    await api?.close();
  });

  it('ran without errors, at the offered rate, with every request counted once', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(summary.requests.errors, JSON.stringify(summary.errorCauses)).toBe(0);
    expect(summary.orders.uncertain).toBe(0);
    expect(summary.target).toMatchObject({ rate: 60, durationSeconds: 6, requests: 360, concurrency: 8 });
    expect(summary.requests.sent + summary.requests.notSent).toBe(360);
    expect(summary.requests.ok + summary.requests.refused + summary.requests.errors).toBe(summary.requests.sent);
    const byOperation = OPERATION_NAMES.reduce((sum, name) => sum + summary.operations[name].ok + summary.operations[name].refused + summary.operations[name].errors, 0);
    expect(byOperation).toBe(summary.requests.sent);
    expect(summary.latencyMs.count).toBe(summary.requests.sent);
    expect(summary.achievedRate).toBeGreaterThan(30);
    expect(summary.requests.peakInFlight).toBeLessThanOrEqual(8);
    // Progress went to stderr as plain lines (not a terminal), the summary to stdout.
    expect(run.stderr).toMatch(/load setup: done, 50 users and products/);
    expect(run.stderr).toMatch(/load: done, [\d,]+ of 360 requests|load: done, 360 requests/);
  });

  it('did every operation of the mix; the invalid transitions were refused, not errors', () => {
    for (const name of ['create', 'pay', 'ship', 'complete', 'cancel', 'refund', 'delete'] as const) expect(summary.operations[name].ok, name).toBeGreaterThan(0);
    expect(summary.operations.invalid.refused).toBeGreaterThan(0);
    expect(summary.operations.invalid.ok).toBe(0);
    expect(summary.refusals['409 INVALID_TRANSITION']).toBe(summary.operations.invalid.refused);
  });

  it('reports what MySQL holds: orders by status, deletes, totals, payments, users and products', async () => {
    expect(summary.setup).toMatchObject({ users: 40, products: 10 });
    const counts = await api.counts();
    expect(counts.users).toBe(40);
    expect(counts.products).toBe(10);
    expect(counts.orders).toBe(summary.orders.created);
    expect(summary.orders.created).toBe(summary.operations.create.ok);
    const byStatus = Object.fromEntries((await rows<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM orders GROUP BY status')).map((r) => [r.status, Number(r.n)]));
    expect(byStatus).toEqual(Object.fromEntries(Object.entries(summary.orders.byStatus).filter(([, n]) => n > 0)));
    const [orders] = await rows<{ deleted: number; total: string }>('SELECT SUM(deleted_at IS NOT NULL) AS deleted, SUM(total_amount) AS total FROM orders');
    expect(Number(orders!.deleted)).toBe(summary.orders.deleted);
    expect(summary.orders.deleted).toBe(summary.operations.delete.ok);
    expect(orders!.total).toBe(summary.orders.totalAmount);
    const [payments] = await rows<{ n: number; amount: string }>('SELECT COUNT(*) AS n, SUM(amount) AS amount FROM payments');
    expect(Number(payments!.n)).toBe(summary.payments.captured);
    expect(payments!.amount).toBe(summary.payments.amount);
    // Orders and payments carried an Idempotency-Key each.
    expect(counts.idempotency_keys).toBe(summary.orders.created + summary.payments.captured);
    // Every accepted change wrote exactly one event with the right version.
    const versions = await api.outboxVersions();
    expect(versions.actual).toEqual(versions.expected);
  });

  it('ordered the products by popularity: the first of the catalog most, the last least', async () => {
    const lines = await rows<{ sku: string; n: number }>('SELECT p.sku, COUNT(i.product_id) AS n FROM products p LEFT JOIN order_items i ON i.product_id = p.id GROUP BY p.sku');
    const bySku = new Map(lines.map((r) => [r.sku, Number(r.n)]));
    const first = bySku.get(`LOAD-${summary.runId}-0`)!;
    const last = bySku.get(`LOAD-${summary.runId}-9`)!;
    expect(first).toBe(Math.max(...bySku.values()));
    expect(first).toBeGreaterThan(2 * last);
  });

  it('made itself an admin token and revoked it at the end', async () => {
    const tokens = await rows<{ role: string; revoked: number }>("SELECT role, revoked_at IS NOT NULL AS revoked FROM api_tokens WHERE name LIKE 'load-cli-%'");
    expect(tokens.map((t) => ({ role: t.role, revoked: Number(t.revoked) }))).toEqual([{ role: 'admin', revoked: 1 }]);
  });
});
