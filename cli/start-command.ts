import { createLogger } from '../core/log.js';
import type { EntryConfig } from './config.js';
import { parseStartArgs } from './flags.js';
import { ROLES, startPipeline } from './pipeline.js';

/** `shopstream start [--roles api,relay,streams,sink,monitor] [--seed-demo [--no-demo-traffic]]`: runs until SIGINT/SIGTERM. */
export async function startCommand(config: EntryConfig, args: string[]): Promise<number> {
  const logger = createLogger('start');
  const { roles, seedDemo, demoTraffic } = parseStartArgs(args, ROLES);
  const pipeline = await startPipeline({
    ...config,
    roles,
    // Every role serves /healthz, /readyz and /metrics; the api role adds the API and dashboard.
    httpPort: config.httpPort,
    httpHost: config.httpHost,
    seedDemo,
    demoTraffic,
  });
  logger.info(`shopstream is running (roles: ${roles.join(', ')})${pipeline.url ? ` at ${pipeline.url}` : ''}`);
  // Roles that stop on a fatal error are restarted in this process (see startPipeline): the
  // process itself ends only on a signal.
  await new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${reason}: stopping`);
      pipeline.stop().then(resolve, resolve);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
}
