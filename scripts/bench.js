// `npm run bench [-- --orders N --rate R --concurrency C]`: set up, bring the local stack up, then
// measure (bench/run.ts). Figures are printed and written to bench/results/.
import { join } from 'node:path';
import { ROOT, run, say, setup } from './setup.js';

setup();
say('running the benchmark');
run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...process.argv.slice(2)]);
