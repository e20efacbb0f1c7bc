import { afterAll, beforeAll } from 'vitest';
import { startPipeline, type Pipeline, type PipelineConfig, type Role } from '../../cli/pipeline.js';
import { isolatedPipelineConfig } from './env.js';

/**
 * A pipeline of the test file's own (database, topics, groups, ClickHouse folder), started before
 * its tests and stopped and removed after them. Read `pipeline` and `config` inside tests.
 */
export function useIsolatedPipeline(roles: readonly Role[], overrides: Partial<PipelineConfig> = {}): { readonly pipeline: Pipeline; readonly config: PipelineConfig } {
  let pipeline: Pipeline | undefined;
  let config: PipelineConfig | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const isolated = await isolatedPipelineConfig(roles);
    config = { ...isolated.config, ...overrides };
    cleanup = isolated.cleanup;
    pipeline = await startPipeline(config);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await cleanup?.();
  });
  return {
    get pipeline() {
      return pipeline!;
    },
    get config() {
      return config!;
    },
  };
}
