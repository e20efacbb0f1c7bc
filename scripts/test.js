// `npm test`: set up (idempotent), bring the local stack up, then run the whole suite (unit and
// integration tests against the real MariaDB, Kafka, Schema Registry and ClickHouse engine).
import { join } from 'node:path';
import { ROOT, run, say, setup } from './setup.js';

setup({ browser: true });
say('running the test suite');
run(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)]);
