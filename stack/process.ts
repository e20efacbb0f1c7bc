import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from '../core/retry.js';

/**
 * Background processes of the local stack. Each is started detached with its output appended
 * to a log file and its pid in a pid file. A pid counts as ours only while the process's command
 * line still contains `marker` (normally the stack folder), so a recycled pid is never mistaken
 * for, or killed as, one of our services.
 */
export interface ManagedProcess {
  pidFile: string;
  logFile: string;
  marker: string;
}

export function startDetached(
  proc: ManagedProcess,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): number {
  mkdirSync(dirname(proc.logFile), { recursive: true });
  mkdirSync(dirname(proc.pidFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    writeFileSync(proc.pidFile, String(child.pid));
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The pid of our live process, or undefined when none runs. */
export function runningPid(proc: ManagedProcess): number | undefined {
  if (!existsSync(proc.pidFile)) return undefined;
  const pid = Number(readFileSync(proc.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(proc.marker) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(proc: ManagedProcess, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(proc);
  if (pid === undefined) {
    rmSync(proc.pidFile, { force: true });
    return false;
  }
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (runningPid(proc) !== undefined && Date.now() < deadline) await sleep(200);
  if (runningPid(proc) !== undefined) {
    signal(pid, 'SIGKILL');
    while (runningPid(proc) !== undefined) await sleep(100);
  }
  rmSync(proc.pidFile, { force: true });
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the detached child leads its own process group
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Runs a command to completion without blocking the event loop (services start in parallel and
 * their readiness timers must keep running); throws with the tail of its output when it fails.
 */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    let stdout = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => reject(new Error(`${command} could not run: ${error.message}`)));
    child.once('close', (code) => {
      if (code === 0) return resolve(stdout);
      const tail = output.trim().split('\n').slice(-20).join('\n');
      reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail}`));
    });
  });
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}
