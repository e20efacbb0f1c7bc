// Plain-Node setup shared by `npm start`, `npm test` and `npm run bench`: no dependencies, so it
// runs on a fresh clone. Installs what is missing (Debian build libraries for the Kafka client,
// a JDK and Maven for the broker and registry, Prometheus, for the tests Chromium, then
// node_modules), builds the dashboard (web/build.mjs) and says what it is doing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

// The processes these scripts start inherit it. Every librdkafka call and every embedded
// ClickHouse query waits for a thread of Node's libuv pool (4 by default), shared by the ~10 Kafka
// clients of a one-process pipeline: calls blocked on a stalled broker must not starve the rest.
// Node reads it once at start-up, so it is set here, for the children, not in the process itself.
process.env.UV_THREADPOOL_SIZE ??= '16';

/** Debian packages and why they are needed. */
const DEBIAN_PACKAGES = {
  'libssl-dev': 'Kafka client (librdkafka) build',
  'zlib1g-dev': 'Kafka client (librdkafka) build',
  'libzstd-dev': 'Kafka client (librdkafka) build',
  'liblz4-dev': 'Kafka client (librdkafka) build',
  'libsasl2-dev': 'Kafka client (librdkafka) build',
  'libcurl4-openssl-dev': 'Kafka client (librdkafka) build',
  'g++': 'native module build',
  make: 'native module build',
  python3: 'native module build (node-gyp)',
  maven: 'resolving Kafka and the Schema Registry from Maven Central',
  prometheus: 'Prometheus and promtool: `stack up` runs its own, the test suite checks the alert rules',
};
/** Debian packages only the test suite needs (`setup({ browser: true })`). */
const BROWSER_PACKAGES = {
  chromium: "the dashboard's browser test (headless, driven by playwright-core; no browser is downloaded)",
  'fonts-liberation': 'fonts for the pages Chromium renders in the browser test',
};
/**
 * Installed without recommendations: prometheus would bring node-exporter, another service, and
 * its tools; chromium would bring upower, udev and printing services.
 */
const WITHOUT_RECOMMENDS = new Set(['prometheus', 'chromium']);

export function say(line) {
  process.stdout.write(`[shopstream] ${line}\n`);
}

function missingDebianPackages(browser) {
  const wanted = Object.keys({ ...DEBIAN_PACKAGES, ...(browser ? BROWSER_PACKAGES : {}) });
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...wanted], { encoding: 'utf8' });
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.endsWith('install ok installed'))
      .map((line) => line.split(' ')[0]),
  );
  const missing = wanted.filter((name) => !installed.has(name));
  if (!hasJava17()) missing.push('openjdk-17-jre-headless');
  return missing;
}

function hasJava17() {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr ?? ''}${out.stdout ?? ''}`);
  if (!version) return false;
  const major = version[1] === '1' ? Number(version[2]) : Number(version[1]);
  return major >= 17;
}

function ensureDebianPackages(browser) {
  if (!existsSync('/usr/bin/dpkg-query')) {
    say('not a Debian-based system: make sure the packages in scripts/setup.js (DEBIAN_PACKAGES, and BROWSER_PACKAGES for the tests) are installed');
    return;
  }
  const missing = missingDebianPackages(browser);
  if (missing.length === 0) return;
  const plain = missing.filter((name) => !WITHOUT_RECOMMENDS.has(name));
  const lean = missing.filter((name) => WITHOUT_RECOMMENDS.has(name));
  if (process.getuid?.() !== 0) {
    const installs = [
      ...(plain.length > 0 ? [`apt-get install -y ${plain.join(' ')}`] : []),
      ...(lean.length > 0 ? [`apt-get install -y --no-install-recommends ${lean.join(' ')}`] : []),
    ];
    say(`missing Debian packages: ${missing.join(', ')}`);
    say(`install them with: sudo sh -c 'apt-get update && ${installs.join(' && ')}'`);
    if (lean.includes('prometheus')) say("then stop the Prometheus service the package enables (the project runs its own): sudo systemctl disable --now prometheus");
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq']);
  if (plain.length > 0) run('apt-get', ['install', '-y', '-qq', ...plain], { env });
  if (lean.length > 0) run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...lean], { env });
  if (lean.includes('prometheus')) disableDistroPrometheus();
}

/**
 * Debian's prometheus package enables a service of its own (port 9090, /etc/prometheus) and starts
 * it where the init system allows. The project only wants the binaries: `stack up` runs its own
 * Prometheus with its own configuration and data. The service this install just enabled is
 * stopped and disabled; one that was there before the project is left alone.
 */
function disableDistroPrometheus() {
  if (existsSync('/run/systemd/system')) {
    spawnSync('systemctl', ['disable', '--now', 'prometheus.service'], { stdio: 'ignore' });
  } else {
    // Its init script matches the service's own pid file and user, never the project's Prometheus.
    if (existsSync('/run/prometheus/prometheus.pid')) spawnSync('/etc/init.d/prometheus', ['stop'], { stdio: 'ignore' });
    spawnSync('update-rc.d', ['prometheus', 'disable'], { stdio: 'ignore' });
  }
  say("disabled the prometheus service Debian's package enabled (stack up runs the project's own)");
}

function dependenciesCurrent() {
  const installedLock = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (!existsSync(installedLock)) return false;
  if (existsSync(lock) && statSync(lock).mtimeMs > statSync(installedLock).mtimeMs) return false;
  const native = join(ROOT, 'node_modules', '@confluentinc', 'kafka-javascript', 'build', 'Release', 'confluent-kafka-javascript.node');
  const engine = join(ROOT, 'node_modules', '@chdb', 'lib-linux-x64-gnu');
  return existsSync(native) && (process.arch !== 'x64' || existsSync(engine));
}

function ensureNodeModules() {
  if (dependenciesCurrent()) return;
  say('installing npm dependencies (the Kafka client builds from source: a few minutes the first time)');
  const env = { ...process.env, CKJS_LINKING: 'dynamic' };
  // Node headers for native builds come from the local Node installation, not from the internet.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  // `npm install` follows package-lock.json; `npm ci` would refuse it, because chdb lists
  // optional platform packages that were never published (npm cannot lock what does not exist).
  run('npm', ['install', '--no-audit', '--no-fund'], { env });
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    say(`Node.js 20 or newer is required (this is ${process.versions.node})`);
    process.exit(1);
  }
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    say(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

/** The `shopstream` CLI of this checkout. */
export function shopstream(args, options = {}) {
  run(process.execPath, [join(ROOT, 'bin', 'shopstream.js'), ...args], options);
}

/** Builds the dashboard served at `/` into web/dist (git-ignored; about a second). */
function buildDashboard() {
  say('building the dashboard (web/ → web/dist)');
  run(process.execPath, [join(ROOT, 'web', 'build.mjs')]);
}

/** `browser`: also what the test suite needs (Chromium for the dashboard's browser test). */
export function setup({ browser = false } = {}) {
  checkNode();
  ensureDebianPackages(browser);
  ensureNodeModules();
  buildDashboard();
  say('starting the local stack (MariaDB, Kafka, Schema Registry, ClickHouse, Prometheus)');
  shopstream(['stack', 'up']);
}

export function packageVersion() {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
}
