import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../cli/config.js';
import { ConfigError } from '../../core/errors.js';

describe('monitor role configuration', () => {
  it('reads the extra groups and the interval', () => {
    expect(configFromEnv({}).monitor).toEqual({ groups: [] });
    expect(configFromEnv({ MONITOR_GROUPS: ' connect-shopstream-clickhouse-sink, other ,,', MONITOR_INTERVAL_MS: '1000' }).monitor).toEqual({
      groups: ['connect-shopstream-clickhouse-sink', 'other'],
      intervalMs: 1_000,
    });
  });

  it('refuses an interval that would spin', () => {
    expect(() => configFromEnv({ MONITOR_INTERVAL_MS: '50' })).toThrow(ConfigError);
    expect(() => configFromEnv({ MONITOR_INTERVAL_MS: 'soon' })).toThrow(/MONITOR_INTERVAL_MS/);
  });
});
