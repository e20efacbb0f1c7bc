import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ROLES as TOKEN_ROLES, type Role as TokenRole } from '../auth/tokens.js';
import { ShopstreamError } from '../core/errors.js';

/**
 * The command lines of every `shopstream` command, parsed strictly with `node:util` parseArgs:
 * an unknown flag, a flag without its value (`--name --role admin` is not a name of "--role";
 * `--name=--role` says so explicitly), a missing required flag or a surplus argument is a
 * UsageError, which the CLI prints with the command's usage and exits 2 for. Parsing is pure:
 * nothing is connected to before the command line is known to be right.
 */
export class UsageError extends ShopstreamError {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super('USAGE', message);
  }
}

export const USAGE = {
  admin: 'usage: shopstream admin create-token --name <who> --role admin|viewer\n       shopstream admin revoke-token --name <who>',
  outbox: 'usage: shopstream outbox failed | shopstream outbox retry <id>',
  schemas: 'usage: shopstream schemas check|register [--dir schemas-avro]',
  reconcile: 'usage: shopstream reconcile [--users N]',
  start: 'usage: shopstream start [--roles api,relay,streams,sink,monitor] [--seed-demo [--no-demo-traffic]]',
  stack: 'usage: shopstream stack up|down|status',
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;

export function strict<const O extends Options>(args: string[], options: O, usage: string, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true as const, allowPositionals: true as const });
  } catch (error) {
    // Node's messages name the flag and the way out ("use '--name=-XYZ'"); keep the first line's sense.
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '), usage);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`, usage);
  return parsed;
}

function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`, usage);
  return value;
}

export type AdminArgs = { action: 'create-token'; name: string; role: TokenRole } | { action: 'revoke-token'; name: string };

export function parseAdminArgs(args: string[]): AdminArgs {
  const [action, ...rest] = args;
  const usage = USAGE.admin;
  if (action === 'create-token') {
    const { values } = strict(rest, { name: { type: 'string' }, role: { type: 'string' } }, usage, 0);
    const role = required(values.role, '--role', usage);
    if (!(TOKEN_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')} (got "${role}")`, usage);
    return { action, name: required(values.name, '--name', usage), role: role as TokenRole };
  }
  if (action === 'revoke-token') {
    const { values } = strict(rest, { name: { type: 'string' } }, usage, 0);
    return { action, name: required(values.name, '--name', usage) };
  }
  throw new UsageError(action === undefined ? 'an admin action is required' : `unknown admin action "${action}"`, usage);
}

export type OutboxArgs = { action: 'failed' } | { action: 'retry'; id: string };

export function parseOutboxArgs(args: string[]): OutboxArgs {
  const { positionals } = strict(args, {}, USAGE.outbox, 2);
  const [action, id] = positionals;
  if (action === 'failed' && id === undefined) return { action };
  if (action === 'retry') {
    if (id === undefined || !/^\d+$/.test(id)) throw new UsageError(`outbox retry needs an outbox event id (a number)${id === undefined ? '' : `, got "${id}"`}`, USAGE.outbox);
    return { action, id };
  }
  throw new UsageError(action === undefined ? 'an outbox action is required' : `unexpected "${positionals.join(' ')}"`, USAGE.outbox);
}

export function parseSchemasArgs(args: string[]): { action: 'check' | 'register'; dir: string | undefined } {
  const { values, positionals } = strict(args, { dir: { type: 'string' } }, USAGE.schemas, 1);
  const [action] = positionals;
  if (action !== 'check' && action !== 'register') throw new UsageError(action === undefined ? 'check or register is required' : `unknown schemas action "${action}"`, USAGE.schemas);
  return { action, dir: values.dir };
}

export function parseReconcileArgs(args: string[]): { users: number } {
  const { values } = strict(args, { users: { type: 'string' } }, USAGE.reconcile, 0);
  if (values.users === undefined) return { users: 1_000 };
  const users = Number(values.users);
  if (!/^\d+$/.test(values.users) || users < 1) throw new UsageError(`--users must be a positive integer (got "${values.users}")`, USAGE.reconcile);
  return { users };
}

/** `--seed-demo` brings the demo data and a live trickle of demo orders; `--no-demo-traffic` leaves the trickle out. */
export function parseStartArgs<R extends string>(args: string[], known: readonly R[]): { roles: R[]; seedDemo: boolean; demoTraffic: boolean } {
  const { values } = strict(args, { roles: { type: 'string' }, 'seed-demo': { type: 'boolean' }, 'no-demo-traffic': { type: 'boolean' } }, USAGE.start, 0);
  const roles = values.roles === undefined ? [...known] : values.roles.split(',').map((role) => role.trim());
  const unknown = roles.filter((role) => !(known as readonly string[]).includes(role));
  if (roles.length === 0 || unknown.length > 0) throw new UsageError(`unknown role(s) ${unknown.map((r) => `"${r}"`).join(', ')}; roles are ${known.join(', ')}`, USAGE.start);
  const seedDemo = values['seed-demo'] ?? false;
  return { roles: roles as R[], seedDemo, demoTraffic: seedDemo && !(values['no-demo-traffic'] ?? false) };
}

export function parseStackArgs(args: string[]): { action: 'up' | 'down' | 'status' } {
  const { positionals } = strict(args, {}, USAGE.stack, 1);
  const [action] = positionals;
  if (action !== 'up' && action !== 'down' && action !== 'status') throw new UsageError(action === undefined ? 'up, down or status is required' : `unknown stack action "${action}"`, USAGE.stack);
  return { action };
}
