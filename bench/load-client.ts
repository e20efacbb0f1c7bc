import { createProgress, formatCount, type Progress } from '../cli/progress.js';
import { runLoad, type LoadOptions, type LoadSummary } from '../load/load.js';

/**
 * The bench's traffic, in a process of its own (real clients are not inside the server): the
 * `shopstream load` generator (load/load.ts) with the options its parent sends, progress on
 * stderr, and the summary sent back to the parent.
 */
export type LoadClientJob = Partial<LoadOptions> & Pick<LoadOptions, 'url' | 'adminToken'>;

process.once('message', async (job: LoadClientJob) => {
  let progress: Progress | undefined;
  try {
    const summary: LoadSummary = await runLoad(job, {
      onStart(planned) {
        progress = createProgress({ label: 'bench load', unit: 'requests' });
        progress.start(planned);
      },
      onTick(tick) {
        progress?.set(tick.completed);
        progress?.update({ refused: formatCount(tick.refused), errors: formatCount(tick.errors) });
      },
    });
    progress?.stop();
    process.send!({ summary }, () => process.exit(0));
  } catch (error) {
    progress?.stop();
    process.send!({ error: error instanceof Error ? error.stack ?? error.message : String(error) }, () => process.exit(1));
  }
});
