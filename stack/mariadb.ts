import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { waitFor } from '../core/retry.js';
import { createMysqlPool, databaseOf } from '../mysql/pool.js';
import { migrateMysql } from '../mysql/migrate.js';
import { commandExists, run, runningPid, startDetached, stopProcess, type ManagedProcess } from './process.js';
import { StackError } from './errors.js';
import { portOpen } from './net.js';
import { hostPort, type ServiceStatus, type StackOptions } from './options.js';

const SERVICE = 'MariaDB';

function managed(options: StackOptions): ManagedProcess {
  return { pidFile: join(options.dir, 'run', 'mariadb.pid'), logFile: join(options.dir, 'logs', 'mariadb.log'), marker: options.dir };
}

/** The server version, or undefined when nothing answers; throws when a server answers but refuses us. */
async function probe(url: string): Promise<string | undefined> {
  const { host, port } = hostPort(url, 3306);
  if (!(await portOpen(host, port))) return undefined;
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 5_000 });
  try {
    const [rows] = (await connection.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
    return rows[0]?.v;
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/**
 * Uses the MySQL-protocol server that answers at the admin URL. When none does, installs
 * MariaDB from Debian if needed and starts a project-local server (data under <stack>/mariadb).
 * Then creates the application database and user and applies the migrations. Idempotent.
 */
export async function mariadbUp(options: StackOptions): Promise<void> {
  const proc = managed(options);
  const { host, port } = hostPort(options.mysqlAdminUrl, 3306);
  let version = (await portOpen(host, port))
    ? await waitFor(() => probe(options.mysqlAdminUrl), { timeoutMs: options.startTimeoutMs, describe: `${SERVICE} at ${host}:${port}` }).catch(
        (error) => {
          throw new StackError(SERVICE, `a server listens at ${host}:${port} but does not accept ${redact(options.mysqlAdminUrl)}: ${error.message}`);
        },
      )
    : undefined;
  if (version) {
    options.say(`  ${SERVICE}: ${runningPid(proc) ? 'already running (project)' : 'using the server'} at ${address(options)} (${version})`);
    await adviseBufferPool(options);
  } else {
    await startLocal(options, proc);
    version = await waitFor(() => probe(options.mysqlAdminUrl), { timeoutMs: options.startTimeoutMs, describe: SERVICE }).catch((error) => {
      throw new StackError(SERVICE, `did not become ready at ${address(options)}: ${error.message}`, proc.logFile);
    });
    options.say(`  ${SERVICE}: started at ${address(options)} (${version})`);
  }
  await provision(options);
}

async function startLocal(options: StackOptions, proc: ManagedProcess): Promise<void> {
  await ensureInstalled(proc.logFile);
  const { port } = hostPort(options.mysqlAdminUrl, 3306);
  const dataDir = join(options.dir, 'mariadb', 'data');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  if (!existsSync(join(dataDir, 'mysql'))) {
    options.say(`  ${SERVICE}: initializing a project-local data folder ${dataDir}`);
    mkdirSync(dataDir, { recursive: true });
    try {
      await run('mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot]);
    } catch (error) {
      throw new StackError(SERVICE, `could not initialize ${dataDir}: ${(error as Error).message}`, proc.logFile, error);
    }
  }
  options.say(`  ${SERVICE}: starting a project-local server on port ${port}`);
  startDetached(proc, mariadbd(), [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(options.dir, 'run', 'mariadb.sock')}`,
    `--pid-file=${join(options.dir, 'run', 'mariadbd.pid')}`,
    '--innodb-buffer-pool-size=1G',
    '--max-connections=500',
    ...asRoot,
  ]);
}

function mariadbd(): string {
  return existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';
}

async function ensureInstalled(logFile: string): Promise<void> {
  if (commandExists('mariadb-install-db') && (existsSync('/usr/sbin/mariadbd') || commandExists('mariadbd'))) return;
  if (process.getuid?.() !== 0) {
    throw new StackError(SERVICE, 'no server answers and MariaDB is not installed; install it with: sudo apt-get install mariadb-server', logFile);
  }
  try {
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['install', '-y', '-qq', 'mariadb-server'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    throw new StackError(SERVICE, `could not install mariadb-server from Debian: ${(error as Error).message}`, logFile, error);
  }
}

/** InnoDB's default 128 MiB buffer pool makes a large outbox backlog drain from disk; say so. */
async function adviseBufferPool(options: StackOptions): Promise<void> {
  const connection = await mysql.createConnection({ uri: options.mysqlAdminUrl }).catch(() => undefined);
  if (!connection) return;
  try {
    const [[row]] = (await connection.query('SELECT @@innodb_buffer_pool_size AS size')) as unknown as [[{ size: string }]];
    const mib = Number(row?.size ?? 0) / 2 ** 20;
    if (mib < 512) {
      options.say(
        `  ${SERVICE}: note: innodb_buffer_pool_size is ${mib.toFixed(0)} MiB; large outbox backlogs drain much faster with 1 GiB ` +
          '(SET GLOBAL innodb_buffer_pool_size = 1073741824, or innodb_buffer_pool_size = 1G in the server config)',
      );
    }
  } finally {
    await connection.end();
  }
}

/** Creates the database and the application user of `mysqlUrl`, then migrates. */
async function provision(options: StackOptions): Promise<void> {
  const app = new URL(options.mysqlUrl);
  const database = databaseOf(options.mysqlUrl);
  const user = decodeURIComponent(app.username);
  const password = decodeURIComponent(app.password);
  const admin = await mysql.createConnection({ uri: options.mysqlAdminUrl });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
    for (const host of ['%', 'localhost']) {
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, host, password]);
      // The application user owns every database named like its own (tests create their own).
      await admin.query(`GRANT ALL PRIVILEGES ON \`${database}%\`.* TO ?@?`, [user, host]);
    }
  } finally {
    await admin.end();
  }
  const pool = createMysqlPool({ url: options.mysqlUrl, connectionLimit: 1 });
  try {
    const applied = await migrateMysql(pool);
    if (applied.length > 0) options.say(`  ${SERVICE}: applied migrations ${applied.join(', ')}`);
  } finally {
    await pool.end();
  }
}

export async function mariadbDown(options: StackOptions): Promise<void> {
  if (await stopProcess(managed(options))) options.say(`  ${SERVICE}: stopped`);
  else options.say(`  ${SERVICE}: not started by the stack; left running`);
}

export async function mariadbStatus(options: StackOptions): Promise<ServiceStatus> {
  const version = await probe(options.mysqlUrl).catch(() => undefined);
  return {
    service: SERVICE,
    healthy: version !== undefined,
    address: address(options),
    version,
    mode: runningPid(managed(options)) ? 'project' : version ? 'external' : 'absent',
    detail: version ? `database ${databaseOf(options.mysqlUrl)}` : 'not reachable with the application URL',
  };
}

function address(options: StackOptions): string {
  const { host, port } = hostPort(options.mysqlAdminUrl, 3306);
  return `${host}:${port}`;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
