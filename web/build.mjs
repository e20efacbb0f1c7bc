// Builds the dashboard served at `/`: web/src → web/dist (git-ignored), with esbuild: one
// bundle of the page's TypeScript and Chart.js, its stylesheet and the page. Run by
// scripts/setup.js (so by `npm start` and `npm test`), by the browser test when dist is missing,
// and by the Dockerfile. `node web/build.mjs` builds it by hand.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = dirname(fileURLToPath(import.meta.url));
export const DIST = join(WEB, 'dist');

/**
 * Builds into a folder of its own, then swaps it in, so a server reading dist never sees half a
 * build (two builds at once each swap in a whole one).
 */
export async function buildDashboard() {
  const out = `${DIST}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(out, { recursive: true });
  const common = { bundle: true, minify: true, sourcemap: 'linked', legalComments: 'linked', logLevel: 'warning' };
  await build({ ...common, entryPoints: [join(WEB, 'src', 'main.ts')], outfile: join(out, 'app.js'), format: 'esm', target: ['es2022', 'chrome110', 'firefox115', 'safari16'] });
  await build({ ...common, entryPoints: [join(WEB, 'src', 'styles.css')], outfile: join(out, 'app.css') });
  copyFileSync(join(WEB, 'src', 'index.html'), join(out, 'index.html'));
  const old = `${DIST}.old-${process.pid}-${Date.now()}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(out, DIST);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDashboard();
}
