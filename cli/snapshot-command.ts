import { microsToIso } from '../core/time.js';
import { migrateMysql } from '../mysql/migrate.js';
import { mysqlSnapshotStore } from '../mysql/snapshot-store.js';
import { createMysqlPool } from '../mysql/pool.js';
import type { EntityPlan, SnapshotRun } from '../snapshot/ports.js';
import { Snapshot } from '../snapshot/snapshot.js';
import type { EntryConfig } from './config.js';
import { formatCount, phasedProgress } from './progress.js';
import { parseSnapshotArgs, type SnapshotArgs } from './snapshot-flags.js';

const say = (text: string) => void process.stdout.write(`${text}\n`);

/**
 * `shopstream snapshot …` (see snapshot-flags.ts). It only reads MySQL and writes its outbox, so
 * it runs here whether or not a pipeline runs; the relay (the running pipeline's, or the next
 * `shopstream start`) publishes the events.
 */
export async function snapshotCommand(config: EntryConfig, args: string[]): Promise<number> {
  const parsed = parseSnapshotArgs(args);
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 2 });
  const progress = phasedProgress({ unit: 'rows' });
  const snapshot = new Snapshot(mysqlSnapshotStore(pool), {
    ...(parsed.action === 'run' && parsed.only ? { entities: parsed.only } : {}),
    ...(parsed.action === 'run' && parsed.chunkSize ? { chunkSize: parsed.chunkSize } : {}),
    onProgress: (entity, done, planned) => progress.report(`snapshot ${entity}`, done, planned),
  });
  try {
    await migrateMysql(pool); // the run and checkpoint tables (idempotent)
    if (parsed.action === 'status') return await status(snapshot, parsed.json);
    return await run(snapshot, parsed);
  } finally {
    progress.done();
    await pool.end();
  }
}

async function status(snapshot: Snapshot, json: boolean): Promise<number> {
  const latest = await snapshot.latest();
  if (json) say(JSON.stringify(latest ?? null));
  else if (!latest) say('No snapshot has run (start one with `shopstream snapshot`).');
  else describeRun(latest);
  return 0;
}

async function run(snapshot: Snapshot, args: Extract<SnapshotArgs, { action: 'run' }>): Promise<number> {
  const preview = await snapshot.preview();
  if (preview.resuming && (args.only || args.chunkSize)) {
    say(`Snapshot run ${preview.resuming.id} is unfinished and its plan is frozen: run \`shopstream snapshot\` without --only or --chunk-size to resume it.`);
    return 1;
  }
  if (args.dryRun) {
    if (args.json) say(JSON.stringify(preview));
    else if (preview.resuming) {
      say(`Dry run, nothing changed. Snapshot run ${preview.resuming.id} is unfinished; \`shopstream snapshot\` resumes it:`);
      describeRun(preview.resuming);
    } else {
      say('Dry run, nothing changed. `shopstream snapshot` would publish, through the outbox:');
      describePlan(preview.plan.entities, preview.plan.chunkSize);
    }
    return 0;
  }
  const finished = await snapshot.run((started, resumed) => {
    if (args.json) return;
    if (resumed) return say(`Resuming snapshot run ${started.id}.`);
    say(`Snapshot run ${started.id} started; its plan:`);
    describePlan(started.plan.entities, started.plan.chunkSize);
  });
  if (args.json) say(JSON.stringify(finished));
  else {
    say(`Snapshot run ${finished.id} finished: its events are in the outbox; the relay publishes them.`);
    describeRun(finished);
  }
  return 0;
}

function describePlan(entities: EntityPlan[], chunkSize: number): void {
  for (const e of entities) {
    say(`  ${e.entity.padEnd(10)} ${formatCount(e.rows).padStart(10)} rows → ${formatCount(e.events)} events, ${e.chunks} chunks of ≤ ${chunkSize}${e.upTo ? ` (keys up to ${e.upTo})` : ''}`);
  }
}

function describeRun(run: SnapshotRun): void {
  say(`Snapshot run ${run.id}: started ${microsToIso(run.startedAt)}, ${run.finishedAt === null ? 'unfinished' : `finished ${microsToIso(run.finishedAt)}`}`);
  for (const plan of run.plan.entities) {
    const p = run.progress.find((entry) => entry.entity === plan.entity);
    say(`  ${plan.entity.padEnd(10)} ${formatCount(p?.rows ?? 0).padStart(10)} of ${formatCount(plan.rows)} rows, ${formatCount(p?.events ?? 0)} events, ${p?.chunks ?? 0} chunks${p?.done ? ', done' : ''}`);
  }
}
