import { describe, expect, it } from 'vitest';
import { parseSnapshotArgs } from '../../cli/snapshot-flags.js';
import { UsageError } from '../../cli/flags.js';

describe('shopstream snapshot flags', () => {
  it('parses a run, a dry run and status', () => {
    expect(parseSnapshotArgs([])).toEqual({ action: 'run', only: undefined, chunkSize: undefined, dryRun: false, json: false });
    expect(parseSnapshotArgs(['--only', 'orders,users', '--chunk-size', '200', '--dry-run', '--json'])).toEqual({
      action: 'run',
      only: ['users', 'orders'], // always in dependency order
      chunkSize: 200,
      dryRun: true,
      json: true,
    });
    expect(parseSnapshotArgs(['status', '--json'])).toEqual({ action: 'status', json: true });
  });

  it('refuses unknown entities, bad chunk sizes, unknown flags and surplus arguments', () => {
    for (const args of [['--only', 'orders,carts'], ['--only', ''], ['--chunk-size', '0'], ['--chunk-size', '1e3'], ['--chunk-size', '200001'], ['--all'], ['orders'], ['status', 'now']]) {
      expect(() => parseSnapshotArgs(args), args.join(' ')).toThrow(UsageError);
    }
  });
});
