import type { LoadedTable } from '../sink/clickhouse-sink.js';
import { strict, UsageError } from './flags.js';

export const REPLAY_USAGE = `usage: shopstream replay [--tables T,T…] [--from TIME] [--to TIME] [--offsets TOPIC:PARTITION:FROM-TO,…] [--dry-run] [--no-swap] [--force]
       shopstream replay --reset-streams [--no-swap] [--force]
       shopstream replay status | resume [--no-swap] [--force] | swap [--force] | rollback | cleanup
       shopstream replay --outbox (--from-id N --to-id M | --from TIME --to TIME) [--dry-run]

  tables: orders, order_changes, products, pipeline_canary (default: all); TIME: ISO 8601 (UTC)`;

const TABLES: LoadedTable[] = ['orders', 'order_changes', 'products', 'pipeline_canary'];

export type ReplayArgs =
  | {
      action: 'start';
      tables: LoadedTable[] | undefined;
      fromMs: number | undefined;
      toMs: number | undefined;
      offsets: Map<string, { from?: bigint; to?: bigint }> | undefined;
      dryRun: boolean;
      swap: boolean;
      force: boolean;
      resetStreams: boolean;
    }
  | { action: 'status' | 'rollback' | 'cleanup' }
  | { action: 'resume'; swap: boolean; force: boolean }
  | { action: 'swap'; force: boolean }
  | { action: 'outbox'; fromId: bigint | undefined; toId: bigint | undefined; fromMs: number | undefined; toMs: number | undefined; dryRun: boolean };

function time(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new UsageError(`${flag} must be an ISO 8601 time (got "${value}")`, REPLAY_USAGE);
  return ms;
}

function id(value: string | undefined, flag: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,19}$/.test(value)) throw new UsageError(`${flag} must be an outbox id (got "${value}")`, REPLAY_USAGE);
  return BigInt(value);
}

function offsets(value: string | undefined): Map<string, { from?: bigint; to?: bigint }> | undefined {
  if (value === undefined) return undefined;
  const result = new Map<string, { from?: bigint; to?: bigint }>();
  for (const part of value.split(',')) {
    const match = /^(.+):(\d+):(\d*)-(\d*)$/.exec(part);
    if (!match) throw new UsageError(`--offsets takes TOPIC:PARTITION:FROM-TO (got "${part}")`, REPLAY_USAGE);
    const [, topic, partition, from, to] = match;
    result.set(`${topic}:${partition}`, { from: from ? BigInt(from) : undefined, to: to ? BigInt(to) : undefined });
  }
  return result;
}

/** `shopstream replay …`, parsed strictly (see flags.ts). */
export function parseReplayArgs(args: string[]): ReplayArgs {
  const [first] = args;
  if (first === 'status' || first === 'rollback' || first === 'cleanup') {
    strict(args.slice(1), {}, REPLAY_USAGE, 0);
    return { action: first };
  }
  if (first === 'resume' || first === 'swap') {
    const { values } = strict(args.slice(1), { force: { type: 'boolean' }, 'no-swap': { type: 'boolean' } }, REPLAY_USAGE, 0);
    if (first === 'swap' && values['no-swap']) throw new UsageError('--no-swap makes no sense with swap', REPLAY_USAGE);
    return first === 'swap' ? { action: 'swap', force: values.force ?? false } : { action: 'resume', swap: !values['no-swap'], force: values.force ?? false };
  }
  const { values } = strict(
    args,
    {
      tables: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      offsets: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'no-swap': { type: 'boolean' },
      force: { type: 'boolean' },
      outbox: { type: 'boolean' },
      'from-id': { type: 'string' },
      'to-id': { type: 'string' },
      'reset-streams': { type: 'boolean' },
    },
    REPLAY_USAGE,
    0,
  );
  const fromMs = time(values.from, '--from');
  const toMs = time(values.to, '--to');
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) throw new UsageError('--from must be before --to', REPLAY_USAGE);
  const resetStreams = values['reset-streams'] ?? false;
  if (resetStreams) {
    for (const flag of ['tables', 'offsets', 'from', 'to', 'outbox', 'dry-run'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --reset-streams (it rebuilds every table from the re-derived topics)`, REPLAY_USAGE);
    }
  }
  if (values.outbox) {
    for (const flag of ['tables', 'offsets', 'no-swap', 'force'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --outbox`, REPLAY_USAGE);
    const fromId = id(values['from-id'], '--from-id');
    const toId = id(values['to-id'], '--to-id');
    if ((fromId === undefined) !== (toId === undefined)) throw new UsageError('--from-id and --to-id go together', REPLAY_USAGE);
    if (fromId === undefined && (fromMs === undefined || toMs === undefined)) throw new UsageError('--outbox needs --from-id/--to-id or --from/--to', REPLAY_USAGE);
    if (fromId !== undefined && toId !== undefined && fromId > toId) throw new UsageError('--from-id must not be above --to-id', REPLAY_USAGE);
    return { action: 'outbox', fromId, toId, fromMs, toMs, dryRun: values['dry-run'] ?? false };
  }
  if (values['from-id'] !== undefined || values['to-id'] !== undefined) throw new UsageError('--from-id/--to-id need --outbox', REPLAY_USAGE);
  let tables: LoadedTable[] | undefined;
  if (values.tables !== undefined) {
    tables = values.tables.split(',').map((t) => t.trim()) as LoadedTable[];
    const unknown = tables.filter((t) => !TABLES.includes(t));
    if (unknown.length > 0 || tables.length === 0) throw new UsageError(`--tables takes ${TABLES.join(', ')} (got "${values.tables}")`, REPLAY_USAGE);
  }
  return { action: 'start', tables, fromMs, toMs, offsets: offsets(values.offsets), dryRun: values['dry-run'] ?? false, swap: !values['no-swap'], force: values.force ?? false, resetStreams };
}
