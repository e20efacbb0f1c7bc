/**
 * Where a long command writes: lines of output and its progress. On a terminal it is printed
 * (progress as a bar), inside a pipeline process it is kept for the CLI that polls the job.
 */
export interface CommandOutput {
  line(text: string): void;
  progress(phase: string, done: number, total: number): void;
}

/** Output to this process's stdout; progress as a periodic line (at most one per second per phase). */
export function consoleOutput(): CommandOutput & { done(): void } {
  let last = 0;
  let phase = '';
  return {
    line: (text) => void process.stdout.write(`${text}\n`),
    progress(name, done, total) {
      const now = Date.now();
      if (name === phase && now - last < 1_000 && done < total) return;
      phase = name;
      last = now;
      const percent = total > 0 ? ` (${Math.floor((done / total) * 100)} %)` : '';
      process.stdout.write(`${name}: ${done}${total > 0 ? ` of ${total}` : ''}${percent}\n`);
    },
    done: () => undefined,
  };
}
