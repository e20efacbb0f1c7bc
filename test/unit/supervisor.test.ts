import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { Supervisor, type SupervisedRole } from '../../core/supervisor.js';

/** A role whose instances record their lifecycle; `fail` reports a fatal error from the newest one. */
function fakeRole(options: { failStarts?: number } = {}) {
  const instances: { started: boolean; closed: boolean; fatal: (error: unknown) => void }[] = [];
  let starts = 0;
  const create = (onFatal: (error: unknown) => void): SupervisedRole => {
    const instance = { started: false, closed: false, fatal: onFatal };
    instances.push(instance);
    return {
      start: async () => {
        starts++;
        if (starts > 1 && starts <= 1 + (options.failStarts ?? 0)) throw new Error(`start ${starts} failed`);
        instance.started = true;
      },
      close: async () => void (instance.closed = true),
    };
  };
  return { create, instances, fail: (error: unknown) => instances[instances.length - 1]!.fatal(error) };
}

const quick = { initialDelayMs: 20, maxDelayMs: 200, logger: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } } };

describe('Supervisor', () => {
  it('replaces an instance that reported a fatal error, and is not ready meanwhile', async () => {
    const role = fakeRole();
    const supervisor = new Supervisor(role.create, { name: 'streams', ...quick, initialDelayMs: 150 });
    await supervisor.start();
    expect(await supervisor.readiness()()).toEqual({ name: 'streams', ok: true });
    role.fail(new Error('producer fenced'));
    const down = await supervisor.readiness()();
    expect(down.ok).toBe(false);
    expect(down.detail).toContain('producer fenced');
    expect(role.instances[0]!.closed).toBe(true);
    await waitFor(async () => (supervisor.status().state === 'running' ? true : undefined), { timeoutMs: 2_000, intervalMs: 10, describe: 'restart' });
    expect(role.instances).toHaveLength(2);
    expect(role.instances[1]!.started).toBe(true);
    expect(supervisor.status().restarts).toBe(1);
    await supervisor.stop();
    expect(role.instances[1]!.closed).toBe(true);
  });

  it('keeps retrying starts that fail, with growing delays, until one runs', async () => {
    const role = fakeRole({ failStarts: 3 });
    const supervisor = new Supervisor(role.create, { name: 'sink', ...quick });
    await supervisor.start();
    const failedAt = Date.now();
    role.fail(new Error('boom'));
    await waitFor(async () => (supervisor.status().state === 'running' ? true : undefined), { timeoutMs: 5_000, intervalMs: 5, describe: 'restart' });
    // Delays of at least 10, 20, 40 and 80 ms (the upper half of each doubling ceiling).
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(150);
    expect(supervisor.status()).toMatchObject({ state: 'running', restarts: 4, lastError: 'start 4 failed' });
    await supervisor.stop();
  });

  it('ignores a second report from the same instance and reports from replaced ones', async () => {
    const role = fakeRole();
    const supervisor = new Supervisor(role.create, { name: 'streams', ...quick });
    await supervisor.start();
    const first = role.instances[0]!;
    first.fatal(new Error('a'));
    first.fatal(new Error('b'));
    await waitFor(async () => (supervisor.status().state === 'running' ? true : undefined), { timeoutMs: 2_000, intervalMs: 5, describe: 'restart' });
    first.fatal(new Error('late'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(role.instances).toHaveLength(2);
    expect(supervisor.status()).toMatchObject({ state: 'running', restarts: 1 });
    await supervisor.stop();
  });

  it('starts a new instance when the failed one does not close within closeTimeoutMs', async () => {
    const instances: { fatal: (error: unknown) => void; started: boolean }[] = [];
    const create = (onFatal: (error: unknown) => void): SupervisedRole => {
      const instance = { fatal: onFatal, started: false };
      instances.push(instance);
      // The first instance's close never returns (a call stuck inside it).
      return { start: async () => void (instance.started = true), close: () => (instance === instances[0] ? new Promise<void>(() => undefined) : Promise.resolve()) };
    };
    const supervisor = new Supervisor(create, { name: 'streams', ...quick, closeTimeoutMs: 300 });
    await supervisor.start();
    const failedAt = Date.now();
    instances[0]!.fatal(new Error('stuck'));
    await waitFor(async () => (supervisor.status().state === 'running' ? true : undefined), { timeoutMs: 3_000, intervalMs: 10, describe: 'a new instance' });
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(300);
    expect(instances).toHaveLength(2);
    expect(instances[1]!.started).toBe(true);
    expect(supervisor.status()).toMatchObject({ state: 'running', restarts: 1, lastError: 'stuck' });
    await supervisor.stop();
  });

  it('reports a failing first start to the caller, and stop ends restarts', async () => {
    const failing = new Supervisor(() => ({ start: async () => Promise.reject(new Error('no broker')), close: async () => undefined }), { name: 'relay', ...quick });
    await expect(failing.start()).rejects.toThrow('no broker');
    const role = fakeRole();
    const supervisor = new Supervisor(role.create, { name: 'streams', ...quick, initialDelayMs: 500 });
    await supervisor.start();
    role.fail(new Error('x'));
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(role.instances).toHaveLength(1);
    expect(supervisor.status().state).toBe('stopped');
  });
});
