import { createLogger } from '../core/log.js';
import type { EntryConfig } from './config.js';
import { parseStartArgs } from './flags.js';
import { ROLES, startPipeline } from './pipeline.js';

/** `shopstream start [--roles api,relay,streams,sink] [--seed-demo]`: runs until SIGINT/SIGTERM. */
export async function startCommand(config: EntryConfig, args: string[]): Promise<number> {
  const logger = createLogger('start');
  const { roles, seedDemo } = parseStartArgs(args, ROLES);
  let shutdown: (reason: string) => void = () => undefined;
  const pipeline = await startPipeline({
    ...config,
    roles,
    onFatal: () => shutdown('a role failed'),
    // Every role serves /healthz, /readyz and /metrics; the api role adds the API and dashboard.
    httpPort: config.httpPort,
    httpHost: config.httpHost,
    seedDemo,
  });
  logger.info(`shopstream is running (roles: ${roles.join(', ')})${pipeline.url ? ` at ${pipeline.url}` : ''}`);
  let exitCode = 0;
  await new Promise<void>((resolve) => {
    let stopping = false;
    shutdown = (reason: string) => {
      if (stopping) return;
      stopping = true;
      if (reason === 'a role failed') exitCode = 1;
      logger.info(`${reason}: stopping`);
      pipeline.stop().then(resolve, resolve);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return exitCode;
}
