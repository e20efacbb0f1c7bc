import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../core/retry.js';
import { findJdks, type Jdk } from './java.js';
import { mavenPom, runMaven } from './maven.js';
import { portOpen } from './net.js';
import { run, runningPid, startDetached, stopProcess, type ManagedProcess } from './process.js';
import { StackError } from './errors.js';
import { hostPort, type ServiceStatus, type StackOptions } from './options.js';

const SERVICE = 'Schema Registry';
/** Apicurio Registry 3.3 is built for Java 21; 3.0 still runs on Java 17. */
const NEWEST = { version: '3.3.3', minJava: 21 };
const JAVA17 = { version: '3.0.9', minJava: 17 };

function managed(options: StackOptions): ManagedProcess {
  return { pidFile: join(options.dir, 'run', 'registry.pid'), logFile: join(options.dir, 'logs', 'registry.log'), marker: options.dir };
}

/** The Apicurio version to run and the JDK to run it on. */
export function chooseRegistry(options: StackOptions, jdks: Jdk[] = findJdks()): { version: string; jdk: Jdk | undefined } {
  const newest = jdks[0];
  const version = options.registryVersion ?? (newest && newest.major >= NEWEST.minJava ? NEWEST.version : JAVA17.version);
  const minJava = version.startsWith('3.0.') || version.startsWith('2.') ? JAVA17.minJava : NEWEST.minJava;
  return { version, jdk: jdks.find((jdk) => jdk.major >= minJava) };
}

/**
 * Apicurio Registry (the runnable Quarkus app of io.apicurio:apicurio-registry-app from Maven
 * Central), serving the Confluent Schema Registry API under /apis/ccompat/v7. Its storage is an
 * H2 database in a file under <stack>/registry, so schema ids survive restarts just as the Kafka
 * records that carry them do. Idempotent.
 */
export async function registryUp(options: StackOptions): Promise<void> {
  const proc = managed(options);
  const url = new URL(options.registryUrl);
  const { host, port } = hostPort(url.host, 80);
  if (runningPid(proc) || (await portOpen(host, port))) {
    await waitReady(options, proc);
    options.say(`  ${SERVICE}: ${runningPid(proc) ? 'already running' : 'using the registry'} at ${options.registryUrl}`);
    return;
  }
  const { version, jdk } = chooseRegistry(options);
  if (!jdk) throw new StackError(SERVICE, `Apicurio Registry ${version} needs a newer Java than this machine has`, proc.logFile);
  const appDir = await resolveApp(options, version, proc);
  const launcher = existsSync(join(appDir, 'quarkus-run.jar'))
    ? join(appDir, 'quarkus-run.jar')
    : join(appDir, readdirSync(appDir).find((file) => file.endsWith('-runner.jar')) ?? 'missing-runner.jar');
  const dataDir = join(options.dir, 'registry', 'data');
  mkdirSync(dataDir, { recursive: true });
  options.say(`  ${SERVICE}: starting Apicurio Registry ${version} at ${host}:${port} (Java ${jdk.major})`);
  startDetached(
    proc,
    jdk.java,
    [
      `-Xmx${options.registryHeapMb}m`,
      '-XX:+UseSerialGC',
      `-Dquarkus.http.host=${host}`,
      `-Dquarkus.http.port=${port}`,
      `-Dapicurio.datasource.url=jdbc:h2:file:${join(dataDir, 'registry')}`,
      '-Dapicurio.datasource.jdbc.initial-size=2',
      '-Dapicurio.datasource.jdbc.min-size=2',
      '-Dapicurio.datasource.jdbc.max-size=20',
      '-Dquarkus.log.level=WARN',
      '-Dquarkus.log.category."io.apicurio".level=INFO',
      '-jar',
      launcher,
    ],
    { cwd: appDir },
  );
  await waitReady(options, proc);
  options.say(`  ${SERVICE}: ready`);
}

async function waitReady(options: StackOptions, proc: ManagedProcess): Promise<void> {
  const started = runningPid(proc) !== undefined;
  await waitFor(
    async () => {
      if (started && runningPid(proc) === undefined) return false;
      const response = await fetch(`${options.registryUrl}/subjects`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    },
    { timeoutMs: options.startTimeoutMs, describe: `${SERVICE} at ${options.registryUrl}` },
  )
    .then((ok) => {
      if (!ok) throw new Error('the registry process exited');
    })
    .catch((error) => {
      throw new StackError(SERVICE, `did not become ready: ${error.message}`, proc.logFile);
    });
}

async function resolveApp(options: StackOptions, version: string, proc: ManagedProcess): Promise<string> {
  const home = join(options.dir, 'registry');
  const appDir = join(home, `apicurio-${version}`);
  const marker = join(appDir, '.complete');
  if (existsSync(marker)) return appDir;
  options.say(`  ${SERVICE}: resolving Apicurio Registry ${version} from Maven Central`);
  const downloads = join(home, 'downloads');
  mkdirSync(downloads, { recursive: true });
  await runMaven(SERVICE, proc.logFile, mavenPom('registry'), ['dependency:copy'], { 'apicurio.version': version, 'registry.dir': downloads });
  const archive = join(downloads, `apicurio-registry-app-${version}-all.tar.gz`);
  if (!existsSync(archive)) throw new StackError(SERVICE, `Maven did not produce ${archive}`, proc.logFile);
  mkdirSync(appDir, { recursive: true });
  await run('tar', ['-xzf', archive, '-C', appDir]);
  writeFileSync(marker, new Date().toISOString());
  return appDir;
}

export async function registryDown(options: StackOptions): Promise<void> {
  if (await stopProcess(managed(options))) options.say(`  ${SERVICE}: stopped`);
  else options.say(`  ${SERVICE}: not started by the stack; nothing to stop`);
}

export async function registryStatus(options: StackOptions): Promise<ServiceStatus> {
  const pid = runningPid(managed(options));
  const base = { service: SERVICE, address: options.registryUrl, mode: pid ? ('project' as const) : ('external' as const) };
  try {
    const subjects = await fetch(`${options.registryUrl}/subjects`, { signal: AbortSignal.timeout(2_000) });
    if (!subjects.ok) return { ...base, healthy: false, detail: `GET /subjects answered ${subjects.status}` };
    const count = ((await subjects.json()) as unknown[]).length;
    const info = await fetch(new URL('/apis/registry/v3/system/info', options.registryUrl), { signal: AbortSignal.timeout(2_000) })
      .then((response) => (response.ok ? (response.json() as Promise<{ name?: string; version?: string }>) : undefined))
      .catch(() => undefined);
    const version = info?.version ? `${info.name ?? 'Apicurio Registry'} ${info.version}` : undefined;
    return { ...base, healthy: true, version, detail: `${count} subjects` };
  } catch (error) {
    return { ...base, healthy: false, mode: pid ? 'project' : 'absent', detail: `not reachable: ${(error as Error).message}` };
  }
}
