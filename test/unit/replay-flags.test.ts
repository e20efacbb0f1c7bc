import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/flags.js';
import { parseReplayArgs } from '../../cli/replay-flags.js';

describe('shopstream replay command line', () => {
  it('plans everything by default and takes tables, a time range and partition offsets', () => {
    expect(parseReplayArgs([])).toMatchObject({ action: 'start', tables: undefined, dryRun: false, swap: true, force: false });
    const parsed = parseReplayArgs(['--tables', 'orders,order_changes', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-02', '--offsets', 'shop.orders-enriched.v1:0:10-20,x:1:-5', '--dry-run', '--no-swap']);
    expect(parsed).toMatchObject({ action: 'start', tables: ['orders', 'order_changes'], fromMs: Date.parse('2026-11-01T00:00:00Z'), toMs: Date.parse('2026-11-02'), dryRun: true, swap: false });
    expect(parsed.action === 'start' && [...parsed.offsets!]).toEqual([
      ['shop.orders-enriched.v1:0', { from: 10n, to: 20n }],
      ['x:1', { from: undefined, to: 5n }],
    ]);
  });

  it('has subcommands for a replay in progress', () => {
    expect(parseReplayArgs(['status'])).toEqual({ action: 'status' });
    expect(parseReplayArgs(['resume', '--no-swap'])).toEqual({ action: 'resume', swap: false, force: false });
    expect(parseReplayArgs(['swap', '--force'])).toEqual({ action: 'swap', force: true });
    expect(parseReplayArgs(['rollback'])).toEqual({ action: 'rollback' });
    expect(parseReplayArgs(['cleanup'])).toEqual({ action: 'cleanup' });
  });

  it('republishes the outbox by id or time range', () => {
    expect(parseReplayArgs(['--outbox', '--from-id', '5', '--to-id', '9'])).toMatchObject({ action: 'outbox', fromId: 5n, toId: 9n, dryRun: false });
    expect(parseReplayArgs(['--outbox', '--from', '2026-11-01', '--to', '2026-11-02', '--dry-run'])).toMatchObject({ action: 'outbox', fromId: undefined, dryRun: true });
  });

  it.each([
    [['--tables', 'orderz']],
    [['--tables', '']],
    [['--from', 'yesterday']],
    [['--from', '2026-11-02', '--to', '2026-11-01']],
    [['--offsets', 'topic:0:10']],
    [['--from-id', '1', '--to-id', '2']],
    [['--outbox']],
    [['--outbox', '--from-id', '1']],
    [['--outbox', '--from-id', '9', '--to-id', '1']],
    [['--outbox', '--from-id', '1', '--to-id', '2', '--tables', 'orders']],
    [['swap', '--no-swap']],
    [['status', 'now']],
    [['--bogus']],
  ])('refuses %j with a usage error', (args) => {
    expect(() => parseReplayArgs(args)).toThrow(UsageError);
  });
});
