import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

export interface Jdk {
  home: string;
  java: string;
  major: number;
}

/**
 * The JDKs this machine has: $JAVA_HOME, every JVM under /usr/lib/jvm, and the `java` on PATH,
 * newest first. Their major version comes from the `release` file, or from `java -version`.
 */
export function findJdks(javaHome = process.env.JAVA_HOME): Jdk[] {
  const homes = new Set<string>();
  if (javaHome) homes.add(javaHome);
  if (existsSync('/usr/lib/jvm')) {
    for (const entry of readdirSync('/usr/lib/jvm')) homes.add(join('/usr/lib/jvm', entry));
  }
  const onPath = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout?.trim();
  if (onPath) homes.add(dirname(dirname(realpathSync(onPath))));

  const byPath = new Map<string, Jdk>();
  for (const home of homes) {
    const java = join(home, 'bin', 'java');
    if (!existsSync(java)) continue;
    const real = realpathSync(java);
    if (byPath.has(real)) continue;
    const major = majorVersion(home, java);
    if (major !== undefined) byPath.set(real, { home, java, major });
  }
  return [...byPath.values()].sort((a, b) => b.major - a.major);
}

/** The newest JDK of at least `minMajor`, or undefined. */
export function pickJdk(minMajor: number, jdks = findJdks()): Jdk | undefined {
  return jdks.find((jdk) => jdk.major >= minMajor);
}

function majorVersion(home: string, java: string): number | undefined {
  const release = join(home, 'release');
  let version: string | undefined;
  if (existsSync(release)) {
    version = /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(release, 'utf8'))?.[1];
  }
  if (!version) {
    const out = spawnSync(java, ['-version'], { encoding: 'utf8' });
    version = /version "([^"]+)"/.exec(`${out.stderr}${out.stdout}`)?.[1];
  }
  if (!version) return undefined;
  const [first, second] = version.split('.').map(Number);
  return first === 1 ? second : first;
}
