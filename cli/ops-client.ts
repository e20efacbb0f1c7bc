import { createToken } from '../auth/tokens.js';
import { sleep } from '../core/retry.js';
import { mysqlAdminStore } from '../mysql/admin-store.js';
import { createMysqlPool } from '../mysql/pool.js';
import type { EntryConfig } from './config.js';
import { consoleOutput } from './output.js';

/**
 * Runs `command args` in the pipeline process serving this configuration's port, when one runs:
 * it owns the embedded engine and the sink a replay pauses. The CLI makes itself a short-lived
 * admin token (it has the database, as `admin create-token` does), starts the job through the
 * ops routes, prints its output and progress as it polls, and revokes the token. Resolves to
 * undefined when no pipeline answers.
 */
export async function runInPipeline(config: EntryConfig, command: string, args: string[]): Promise<number | undefined> {
  const base = `http://127.0.0.1:${config.httpPort}`;
  const alive = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!alive) return undefined;
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 1 });
  const store = mysqlAdminStore(pool);
  const name = `ops-cli-${process.pid}`;
  const out = consoleOutput();
  try {
    const { token } = await createToken(store, { name, role: 'admin' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const started = await fetch(`${base}/admin/ops/jobs`, { method: 'POST', headers, body: JSON.stringify({ command, args }) });
    if (started.status === 404) {
      process.stderr.write(`The pipeline on ${base} does not run ${command} (it needs the api and sink roles in one process); stop it to run ${command} here.\n`);
      return 1;
    }
    if (started.status !== 202) {
      process.stderr.write(`The pipeline on ${base} refused ${command}: ${started.status} ${await started.text()}\n`);
      return 1;
    }
    const { id } = (await started.json()) as { id: string };
    out.line(`Running ${command} in the pipeline on ${base} (job ${id}).`);
    let since = 0;
    for (;;) {
      const response = await fetch(`${base}/admin/ops/jobs/${id}?since=${since}`, { headers });
      const job = (await response.json()) as { state: string; exitCode: number | null; lines: string[]; next: number; progress: { phase: string; done: number; total: number } | null };
      for (const line of job.lines) out.line(line);
      since = job.next;
      if (job.state === 'done') return job.exitCode ?? 1;
      if (job.progress) out.progress(job.progress.phase, job.progress.done, job.progress.total);
      await sleep(500);
    }
  } finally {
    out.done();
    await store.revokeTokens(name).catch(() => undefined);
    await pool.end();
  }
}
