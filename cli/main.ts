import { setLogLevel } from '../core/log.js';
import { ShopstreamError } from '../core/errors.js';
import { configFromEnv } from './config.js';
import { UsageError } from './flags.js';
import { stackCommand } from './stack-command.js';

const USAGE = `usage: shopstream <command>

  start [--roles R,R…]                     run the pipeline: roles api, relay, streams, sink, monitor (all in one process by default)
  stack up|down|status                     the local real services (MariaDB, Kafka, registry, ClickHouse)
  admin create-token --name N --role R     a bearer token for the admin API (admin or viewer), shown once
  admin revoke-token --name N              revoke the tokens of N
  outbox failed | outbox retry <id>        parked outbox events; re-queue one
  schemas check | schemas register         check the .avsc files against the registry; register them
  reconcile [--users N]                    compare every ClickHouse aggregate with MySQL; print the drift
  replay [--tables T,…] [--from T] [--to T] rebuild analytics tables from Kafka into shadows and swap them in
  replay status|resume|swap|rollback|cleanup   (and replay --outbox --from-id N --to-id M: publish outbox rows again)
  load [--rate N] [--duration S] [--concurrency C]   realistic traffic through the HTTP API, with progress and a summary
  snapshot [--only E,…] [--dry-run] | snapshot status   publish the current MySQL rows as events (resumable)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = configFromEnv();
  setLogLevel(config.logLevel);
  switch (command) {
    case 'stack':
      return stackCommand(config, rest);
    case 'admin': {
      const { adminCommand } = await import('./admin-command.js');
      return adminCommand(config, rest);
    }
    case 'outbox': {
      const { outboxCommand } = await import('./outbox-command.js');
      return outboxCommand(config, rest);
    }
    case 'schemas': {
      const { schemasCommand } = await import('./schemas-command.js');
      return schemasCommand(config, rest);
    }
    case 'replay': {
      const { replayCommand } = await import('./replay-command.js');
      return replayCommand(config, rest);
    }
    case 'reconcile': {
      const { reconcileCommand } = await import('./reconcile-command.js');
      return reconcileCommand(config, rest);
    }
    case 'snapshot': {
      const { snapshotCommand } = await import('./snapshot-command.js');
      return snapshotCommand(config, rest);
    }
    case 'load': {
      const { loadCommand } = await import('./load-command.js');
      return loadCommand(config, rest);
    }
    case 'start': {
      const { startCommand } = await import('./start-command.js');
      return startCommand(config, rest);
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== -1) process.exit(code);
  },
  (error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`shopstream: ${error.message}\n${error.usage}\n`);
      process.exit(2);
    }
    const code = error instanceof ShopstreamError ? ` [${error.code}]` : '';
    process.stderr.write(`shopstream: ${error instanceof Error ? error.message : String(error)}${code}\n`);
    process.exit(1);
  },
);
