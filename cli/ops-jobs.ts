import { randomBytes } from 'node:crypto';
import type { OpsJobs, OpsJobView } from '../api/ports.js';
import { createLogger } from '../core/log.js';
import type { CommandOutput } from './output.js';

/** A command run in this process: writes to `out`, resolves to its exit code. */
export type OpsRunner = (args: string[], out: CommandOutput) => Promise<number>;

interface Job {
  command: string;
  lines: string[];
  progress: OpsJobView['progress'];
  exitCode: number | null;
}

/** At most this many jobs are kept (the oldest finished ones go first). */
const KEPT_JOBS = 50;

/**
 * The jobs of the ops routes, run one at a time per command (a second replay waits for the
 * first). Output lines and the latest progress are kept in memory for the CLI to poll.
 */
export class InProcessOpsJobs implements OpsJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly logger = createLogger('ops');

  constructor(private readonly runners: Record<string, OpsRunner>) {}

  get commands(): readonly string[] {
    return Object.keys(this.runners);
  }

  start(command: string, args: string[]): string {
    const runner = this.runners[command];
    if (!runner) throw new Error(`unknown ops command ${command}`);
    const id = randomBytes(8).toString('hex');
    const job: Job = { command, lines: [], progress: null, exitCode: null };
    this.jobs.set(id, job);
    this.forgetOld();
    const out: CommandOutput = {
      line: (text) => void job.lines.push(text),
      progress: (phase, done, total) => void (job.progress = { phase, done, total }),
    };
    const run = (this.queues.get(command) ?? Promise.resolve()).then(() =>
      runner(args, out).then(
        (code) => void (job.exitCode = code),
        (error: unknown) => {
          this.logger.error(`${command} failed`, { error });
          job.lines.push(`error: ${error instanceof Error ? error.message : String(error)}`);
          job.exitCode = 1;
        },
      ),
    );
    this.queues.set(command, run);
    return id;
  }

  view(id: string, since: number): OpsJobView | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    return {
      id,
      command: job.command,
      state: job.exitCode === null ? 'running' : 'done',
      exitCode: job.exitCode,
      lines: job.lines.slice(since),
      next: job.lines.length,
      progress: job.progress,
    };
  }

  private forgetOld(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) return;
      if (job.exitCode !== null) this.jobs.delete(id);
    }
  }
}
