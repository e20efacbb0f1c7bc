// `npm start`: set up (idempotent), bring the local stack up, then run every role in one process
// with the demo data, serving the API and dashboard at http://localhost:3000 (PORT to change).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, say, setup } from './setup.js';

setup();
say(`starting shopstream: dashboard at http://localhost:${process.env.PORT ?? 3000}`);
const app = spawn(process.execPath, [join(ROOT, 'bin', 'shopstream.js'), 'start', '--seed-demo', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.kill(signal));
app.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
