import { SNAPSHOT_ENTITIES, type SnapshotEntity } from '../snapshot/ports.js';
import { strict, UsageError } from './flags.js';

export const SNAPSHOT_USAGE = `usage: shopstream snapshot [--only E,E…] [--chunk-size N] [--dry-run] [--json]
       shopstream snapshot status [--json]

  E: ${SNAPSHOT_ENTITIES.join(', ')} (default: all, in that order); --chunk-size: rows per transaction (default 500)
  An unfinished snapshot is resumed by \`shopstream snapshot\` (with no --only or --chunk-size: its plan is frozen).`;

export type SnapshotArgs =
  | { action: 'run'; only: SnapshotEntity[] | undefined; chunkSize: number | undefined; dryRun: boolean; json: boolean }
  | { action: 'status'; json: boolean };

/** `shopstream snapshot …`, parsed strictly (see flags.ts). */
export function parseSnapshotArgs(args: string[]): SnapshotArgs {
  if (args[0] === 'status') {
    const { values } = strict(args.slice(1), { json: { type: 'boolean' } }, SNAPSHOT_USAGE, 0);
    return { action: 'status', json: values.json === true };
  }
  const { values } = strict(args, { only: { type: 'string' }, 'chunk-size': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, SNAPSHOT_USAGE, 0);
  let only: SnapshotEntity[] | undefined;
  if (values.only !== undefined) {
    const named = values.only.split(',').map((name) => name.trim());
    const unknown = named.find((name) => !(SNAPSHOT_ENTITIES as readonly string[]).includes(name));
    if (unknown !== undefined || named.length === 0) throw new UsageError(`--only takes ${SNAPSHOT_ENTITIES.join(', ')} (got "${unknown ?? values.only}")`, SNAPSHOT_USAGE);
    only = SNAPSHOT_ENTITIES.filter((entity) => named.includes(entity));
  }
  const size = values['chunk-size'];
  if (size !== undefined && !(/^\d{1,6}$/.test(size) && Number(size) >= 1 && Number(size) <= 100_000)) {
    throw new UsageError(`--chunk-size must be an integer from 1 to 100000 (got "${size}")`, SNAPSHOT_USAGE);
  }
  return { action: 'run', only, chunkSize: size === undefined ? undefined : Number(size), dryRun: values['dry-run'] === true, json: values.json === true };
}
