import { phasedProgress } from './progress.js';

/**
 * Where a long command writes: lines of output and its progress. On a terminal it is printed
 * (progress as a bar), inside a pipeline process it is kept for the CLI that polls the job.
 */
export interface CommandOutput {
  line(text: string): void;
  progress(phase: string, done: number, total: number): void;
}

/**
 * Output to this process: lines to stdout, progress to stderr through cli/progress.ts (a bar per
 * phase on a TTY, a plain line every few seconds otherwise). `done` ends the last display.
 */
export function consoleOutput(): CommandOutput & { done(): void } {
  const progress = phasedProgress({ unit: 'records' });
  return {
    line: (text) => void process.stdout.write(`${text}\n`),
    progress: (phase, done, total) => progress.report(phase, done, total),
    done: () => progress.done(),
  };
}
