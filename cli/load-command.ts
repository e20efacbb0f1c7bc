import { createToken } from '../auth/tokens.js';
import { LoadSetupError, runLoad, type LoadSummary } from '../load/load.js';
import { OPERATION_NAMES } from '../load/mix.js';
import { mysqlAdminStore } from '../mysql/admin-store.js';
import { createMysqlPool } from '../mysql/pool.js';
import type { EntryConfig } from './config.js';
import { parseLoadArgs } from './load-flags.js';
import { createProgress, formatCount, formatSeconds, type Progress } from './progress.js';

/**
 * `shopstream load` (see load-flags.ts and load/load.ts): traffic through the API at `--url`.
 * The CLI makes itself a short-lived admin token in MYSQL_URL's database (as `admin
 * create-token` does; it must be the API's database) and revokes it at the end. Progress goes to
 * stderr (a bar on a terminal, a line every 5 s otherwise), the summary to stdout (JSON with
 * `--json`). Ctrl-C stops sending, waits for the requests in flight and prints the summary; a
 * second Ctrl-C exits at once. Exits 1 when any request was an error.
 */
export async function loadCommand(config: EntryConfig, args: string[]): Promise<number> {
  const parsed = parseLoadArgs(args);
  const url = parsed.url ?? `http://127.0.0.1:${config.httpPort}`;
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 1 });
  const store = mysqlAdminStore(pool);
  const tokenName = `load-cli-${process.pid}`;
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('\nload: stopping (waiting for the requests in flight; Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.once('SIGINT', stop);
  let setup: Progress | undefined;
  let load: Progress | undefined;
  try {
    const { token } = await createToken(store, { name: tokenName, role: 'admin' });
    const summary = await runLoad(
      {
        url,
        adminToken: token,
        rate: parsed.rate,
        durationSeconds: parsed.durationSeconds,
        requests: parsed.requests,
        concurrency: parsed.concurrency,
        users: parsed.users,
        products: parsed.products,
        mix: parsed.mix,
        zipfExponent: parsed.zipfExponent,
        seed: parsed.seed,
      },
      {
        signal: controller.signal,
        onSetup(done, total) {
          if (!setup) {
            setup = createProgress({ label: 'load setup', unit: 'users and products' });
            setup.start(total);
          }
          setup.set(done);
        },
        onStart(planned) {
          setup?.stop();
          load = createProgress({ label: 'load', unit: 'requests' });
          load.start(planned);
        },
        onTick(tick) {
          load?.set(tick.completed);
          load?.update({ p50: ms(tick.window.p50), p99: ms(tick.window.p99), refused: formatCount(tick.refused), errors: formatCount(tick.errors) });
        },
      },
    );
    // The window's percentiles are not the run's: the summary below has those.
    load?.update({ p50: undefined, p99: undefined });
    load?.stop();
    process.stdout.write(parsed.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary).join('\n')}\n`);
    return summary.requests.errors > 0 ? 1 : 0;
  } catch (error) {
    setup?.stop();
    load?.stop();
    if (error instanceof LoadSetupError && error.code === 'LOAD_SETUP_REFUSED' && /40[13]/.test(error.message)) {
      throw new LoadSetupError(error.code, `${error.message}: the CLI makes its admin token in the database of MYSQL_URL, which must be the database of the API at ${url}`, error);
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
    await store.revokeTokens(tokenName).catch(() => undefined);
    await pool.end();
  }
}

const ms = (value: number) => (Number.isFinite(value) ? `${value < 10 ? value.toFixed(1) : Math.round(value)} ms` : '—');
const fixed = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');

/** The summary for a person: totals, latency, each operation, refusals and errors, the orders. */
export function formatSummary(s: LoadSummary): string[] {
  const lines = [
    `load: ${formatCount(s.requests.sent)} requests in ${formatSeconds(s.seconds)}, ${fixed(s.achievedRate)}/s answered (target ${s.target.rate}/s, concurrency ${s.target.concurrency}, peak in flight ${s.requests.peakInFlight})`,
    `  ok ${formatCount(s.requests.ok)} · refused ${formatCount(s.requests.refused)} · errors ${formatCount(s.requests.errors)}${s.requests.notSent > 0 ? ` · not sent ${formatCount(s.requests.notSent)} (behind schedule at the end)` : ''}`,
    `  latency: p50 ${ms(s.latencyMs.p50)} · p90 ${ms(s.latencyMs.p90)} · p99 ${ms(s.latencyMs.p99)} · max ${ms(s.latencyMs.max)}`,
    `  ${'operation'.padEnd(10)}${'ok'.padStart(9)}${'refused'.padStart(9)}${'errors'.padStart(8)}${'p50'.padStart(10)}${'p99'.padStart(10)}`,
  ];
  for (const name of OPERATION_NAMES) {
    const o = s.operations[name];
    if (o.ok + o.refused + o.errors === 0) continue;
    lines.push(`  ${name.padEnd(10)}${formatCount(o.ok).padStart(9)}${formatCount(o.refused).padStart(9)}${formatCount(o.errors).padStart(8)}${ms(o.latencyMs.p50).padStart(10)}${ms(o.latencyMs.p99).padStart(10)}`);
  }
  const list = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${formatCount(n)}`).join(', ');
  if (s.requests.refused > 0) lines.push(`  refused: ${list(s.refusals)}`);
  if (s.requests.errors > 0) lines.push(`  errors: ${list(s.errorCauses)}`);
  const statuses = Object.entries(s.orders.byStatus).filter(([, n]) => n > 0).map(([status, n]) => `${status} ${formatCount(n)}`).join(', ');
  lines.push(`  orders: ${formatCount(s.orders.created)} created (${statuses || 'none'}), ${formatCount(s.orders.deleted)} deleted, total ${s.orders.totalAmount}${s.orders.uncertain > 0 ? `; ${formatCount(s.orders.uncertain)} of unknown outcome (their requests failed)` : ''}`);
  lines.push(`  payments: ${formatCount(s.payments.captured)} captured, ${s.payments.amount}`);
  lines.push(`  setup: ${formatCount(s.setup.users)} users and ${formatCount(s.setup.products)} products in ${formatSeconds(s.setup.seconds)} (run ${s.runId}, --seed ${s.seed})`);
  return lines;
}
