import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAdminArgs, parseOutboxArgs, parseReconcileArgs, parseSchemasArgs, parseStackArgs, parseStartArgs, UsageError } from '../../cli/flags.js';

const usageError = (parse: () => unknown): UsageError => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
};

describe('command-line flags (strict parseArgs)', () => {
  it('admin: a flag without its value is an error, not a name of "--role"', () => {
    expect(usageError(() => parseAdminArgs(['create-token', '--name', '--role', 'admin'])).message).toMatch(/Option '--name' argument is ambiguous/);
    expect(parseAdminArgs(['create-token', '--name', 'alice', '--role', 'admin'])).toEqual({ action: 'create-token', name: 'alice', role: 'admin' });
    expect(parseAdminArgs(['create-token', '--role=viewer', '--name=bob'])).toEqual({ action: 'create-token', name: 'bob', role: 'viewer' });
    // Said explicitly, a value may start with a dash (and is then the name's own business).
    expect(parseAdminArgs(['create-token', '--name=--role', '--role', 'admin'])).toMatchObject({ name: '--role' });
    expect(parseAdminArgs(['revoke-token', '--name', 'alice'])).toEqual({ action: 'revoke-token', name: 'alice' });
  });

  it('admin: unknown flags, missing flags, bad roles and surplus arguments are errors', () => {
    expect(usageError(() => parseAdminArgs(['create-token', '--name', 'a', '--role', 'admin', '--force'])).message).toMatch(/Unknown option '--force'/);
    expect(usageError(() => parseAdminArgs(['create-token', '--name', 'a'])).message).toBe('--role is required');
    expect(usageError(() => parseAdminArgs(['create-token', '--role', 'admin'])).message).toBe('--name is required');
    expect(usageError(() => parseAdminArgs(['create-token', '--name', 'a', '--role', 'root'])).message).toMatch(/--role must be one of admin, viewer/);
    expect(usageError(() => parseAdminArgs(['revoke-token', '--name', 'a', '--role', 'admin'])).message).toMatch(/Unknown option '--role'/);
    expect(usageError(() => parseAdminArgs(['revoke-token', '--name', 'a', 'extra'])).message).toBe('unexpected argument "extra"');
    expect(usageError(() => parseAdminArgs(['delete-token'])).message).toBe('unknown admin action "delete-token"');
    expect(usageError(() => parseAdminArgs([])).usage).toMatch(/^usage: shopstream admin create-token/);
  });

  it('start, reconcile, schemas, outbox and stack', () => {
    const roles = ['api', 'relay', 'streams', 'sink'] as const;
    expect(parseStartArgs([], roles)).toEqual({ roles: [...roles], seedDemo: false, demoTraffic: false });
    expect(parseStartArgs(['--roles', 'api, relay', '--seed-demo'], roles)).toEqual({ roles: ['api', 'relay'], seedDemo: true, demoTraffic: true });
    expect(parseStartArgs(['--seed-demo', '--no-demo-traffic'], roles)).toMatchObject({ seedDemo: true, demoTraffic: false });
    expect(parseStartArgs(['--no-demo-traffic'], roles)).toMatchObject({ seedDemo: false, demoTraffic: false });
    expect(usageError(() => parseStartArgs(['--roles', 'api,web'], roles)).message).toMatch(/unknown role\(s\) "web"/);
    expect(usageError(() => parseStartArgs(['--roles', '--seed-demo'], roles)).message).toMatch(/ambiguous/);
    expect(usageError(() => parseStartArgs(['--seed-demo=yes'], roles)).message).toMatch(/does not take an argument/);
    expect(parseReconcileArgs([])).toEqual({ users: 1000 });
    expect(parseReconcileArgs(['--users', '50'])).toEqual({ users: 50 });
    expect(usageError(() => parseReconcileArgs(['--users', 'many'])).message).toMatch(/--users must be a positive integer/);
    expect(parseSchemasArgs(['check', '--dir', 'x'])).toEqual({ action: 'check', dir: 'x' });
    expect(usageError(() => parseSchemasArgs(['check', '--dry-run'])).message).toMatch(/Unknown option '--dry-run'/);
    expect(parseOutboxArgs(['retry', '42'])).toEqual({ action: 'retry', id: '42' });
    expect(parseOutboxArgs(['failed'])).toEqual({ action: 'failed' });
    expect(usageError(() => parseOutboxArgs(['retry', 'x1'])).message).toMatch(/needs an outbox event id/);
    expect(usageError(() => parseOutboxArgs(['failed', '--all'])).message).toMatch(/Unknown option '--all'/);
    expect(parseStackArgs(['status'])).toEqual({ action: 'status' });
    expect(usageError(() => parseStackArgs(['up', '--force'])).message).toMatch(/Unknown option '--force'/);
  });

  it('the real CLI exits 2 with a clear message, before touching any service', () => {
    const bin = fileURLToPath(new URL('../../bin/shopstream.js', import.meta.url));
    // An unreachable database proves nothing was connected to.
    const run = spawnSync(process.execPath, [bin, 'admin', 'create-token', '--name', '--role', 'admin'], {
      env: { ...process.env, MYSQL_URL: 'mysql://nobody:x@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^shopstream: Option '--name' argument is ambiguous\. .*'--name=-XYZ'/);
    expect(run.stderr).toContain('usage: shopstream admin create-token --name <who> --role admin|viewer');
    expect(run.stdout).toBe('');
  });
});
