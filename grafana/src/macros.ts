/**
 * What Grafana and the grafana-clickhouse-datasource plugin do to a panel's `rawSql` before
 * ClickHouse sees it, so the test suite can run every panel's query as Grafana would:
 *
 * 1. the plugin's frontend (`applyTemplateVariables` in src/data/CHDatasource.ts) applies
 *    `$__conditionalAll(condition, $var)`, then Grafana's template service replaces the dashboard
 *    variables (`$var`, `${var}`, `[[var]]`; a multi-value variable as `'a','b'`, the plugin's
 *    format) and the global `$__from` / `$__to` (epoch ms) and `$__interval` / `$__interval_ms`;
 * 2. the plugin's backend expands its macros (pkg/macros/macros.go) through the plugin SDK's
 *    `sqlutil.Interpolate` (data/sqlutil/macros.go): a macro is `$__name` followed by a word
 *    boundary, its arguments only a bracketed list right after the name (split at top-level
 *    commas, trimmed), longer names first; a missing `)` or a wrong argument count is an error.
 *
 * Times are UTC (the plugin formats dates in the Grafana server's zone, UTC in its image).
 */
export interface MacroContext {
  /** The dashboard's time range, epoch milliseconds. */
  from: number;
  to: number;
  /** The panel's interval (Grafana's `$__interval`), milliseconds. */
  intervalMs: number;
  /** Dashboard variables by name, as currently selected. */
  variables?: Readonly<Record<string, VariableValue>>;
}

/** A value, several (multi-value), or All with what Grafana puts in its place (its allValue, or every value). */
export type VariableValue = string | readonly string[] | { readonly all: string | readonly string[] };

export class MacroError extends Error {
  readonly code = 'GRAFANA_MACRO_INVALID';
}

export function expandClickHouseQuery(sql: string, context: MacroContext): string {
  const variables = context.variables ?? {};
  return expandMacros(replaceVariables(applyConditionalAll(sql, variables), context), context);
}

/**
 * `$__conditionalAll(condition, $var)` → `1=1` when `$var` is All (`$__all`) or empty, else the
 * condition. As the plugin does it: from the last occurrence backwards, two arguments or the
 * query is left as it is.
 */
export function applyConditionalAll(sql: string, variables: Readonly<Record<string, VariableValue>>): string {
  const macro = '$__conditionalAll(';
  let query = sql;
  let index = query.lastIndexOf(macro);
  while (index !== -1) {
    const args = conditionalArgs(query, index + macro.length - 1);
    if (args.length !== 2) return query;
    const name = /(?<=\$\{)\w+(?=\})|(?<=\$)\w+/.exec(args[1]!.trim())?.[0];
    let phrase = args[0]!;
    if (name !== undefined) {
      // An unknown variable keeps the condition (the plugin's `key?.current.value` is undefined).
      const value = variables[name];
      const text = value === undefined ? undefined : typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : '$__all';
      if (text === '' || text === '$__all') phrase = '1=1';
    }
    query = query.replace(`${macro}${args[0]},${args[1]})`, phrase);
    index = query.lastIndexOf(macro);
  }
  return query;
}

/** The plugin's `getMacroArgs`: arguments untrimmed, split at commas of the first bracket level. */
function conditionalArgs(query: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 1;
  const text = query.slice(open);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c !== ',') continue;
    if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth === 0) {
      args.push(text.slice(start, i));
      return args;
    }
  }
  return [];
}

/** Grafana's template service: dashboard variables and the global time variables. */
export function replaceVariables(sql: string, context: MacroContext): string {
  const globals: Record<string, string> = {
    __from: String(context.from),
    __to: String(context.to),
    __interval: formatInterval(context.intervalMs),
    __interval_ms: String(context.intervalMs),
  };
  const value = (name: string, whole: string) => {
    if (name in globals) return globals[name]!;
    const found = context.variables?.[name];
    if (found === undefined) return whole; // not a variable: left for the backend (macros)
    const current = typeof found === 'object' && 'all' in found ? found.all : found;
    return typeof current === 'string' ? current : `'${current.join("','")}'`;
  };
  return sql.replace(/\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => value((a ?? b ?? c)!, whole));
}

type Macro = (context: MacroContext, args: readonly string[] | undefined) => string;

const seconds = (ms: number) => Math.floor(ms / 1000);
const dateTime = (ms: number) => `toDateTime(${seconds(ms)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;

function arity(name: string, args: readonly string[] | undefined, n: number): readonly string[] {
  const count = args?.length ?? 0;
  if (count !== n) throw new MacroError(`$__${name}: unexpected number of arguments: expected ${n} argument${n === 1 ? '' : 's'}, received ${count}`);
  return args!;
}

const range = (name: string, convert: (ms: number) => string): Macro => (c, args) => {
  const [column] = arity(name, args, 1);
  return `${column} >= ${convert(c.from)} AND ${column} <= ${convert(c.to)}`;
};

/** pkg/macros/macros.go of grafana-clickhouse-datasource, plus the SDK's default macros it does not override. */
const MACROS: Record<string, Macro> = {
  fromTime: (c) => dateTime(c.from),
  toTime: (c) => dateTime(c.to),
  fromTime_ms: (c) => dateTime64(c.from),
  toTime_ms: (c) => dateTime64(c.to),
  timeFilter: range('timeFilter', dateTime),
  timeFilter_ms: range('timeFilter_ms', dateTime64),
  dateFilter: range('dateFilter', date),
  dateTimeFilter: (c, args) => {
    const [day, time] = arity('dateTimeFilter', args, 2);
    return `(${day} >= ${date(c.from)} AND ${day} <= ${date(c.to)}) AND (${time} >= ${dateTime(c.from)} AND ${time} <= ${dateTime(c.to)})`;
  },
  dt: (c, args) => MACROS.dateTimeFilter!(c, args),
  // Go: int(math.Max(interval.Seconds(), 1)) — at least 1, fractions cut.
  timeInterval: (c, args) => `toStartOfInterval(toDateTime(${arity('timeInterval', args, 1)[0]}), INTERVAL ${Math.trunc(Math.max(c.intervalMs / 1000, 1))} second)`,
  timeInterval_ms: (c, args) => `toStartOfInterval(toDateTime64(${arity('timeInterval_ms', args, 1)[0]}, 3), INTERVAL ${Math.trunc(Math.max(c.intervalMs, 1))} millisecond)`,
  interval_s: (c) => String(Math.trunc(Math.max(c.intervalMs / 1000, 1))),
  // sqlutil.DefaultMacros the plugin does not override.
  interval: (c) => formatInterval(c.intervalMs),
  interval_ms: (c) => String(Math.trunc(c.intervalMs)),
  timeFrom: (c, args) => `${arity('timeFrom', args, 1)[0]} >= '${rfc3339(c.from)}'`,
  timeTo: (c, args) => `${arity('timeTo', args, 1)[0]} <= '${rfc3339(c.to)}'`,
};

const rfc3339 = (ms: number) => `${new Date(seconds(ms) * 1000).toISOString().slice(0, 19)}Z`;

/** sqlutil.Interpolate with the plugin's macros. */
export function expandMacros(sql: string, context: MacroContext): string {
  let query = sql;
  const names = Object.keys(MACROS).sort((a, b) => b.length - a.length);
  for (const name of names) {
    for (const match of macroMatches(query, name)) query = query.split(match.full).join(MACROS[name]!(context, match.args));
  }
  return query;
}

function macroMatches(input: string, name: string): { full: string; args: string[] | undefined }[] {
  const matches: { full: string; args: string[] | undefined }[] = [];
  for (const found of input.matchAll(new RegExp(`\\$__${name}\\b`, 'g'))) {
    const end = found.index + found[0].length;
    const parsed = parseArgs(input.slice(end));
    if (parsed.length < 0) throw new MacroError(`$__${name}: failed to parse macro arguments (missing close bracket?)`);
    matches.push({ full: input.slice(found.index, end + parsed.length), args: parsed.args });
  }
  return matches;
}

/** A bracketed argument list at the very start of `text`: its trimmed arguments and its length (-1: unclosed). */
function parseArgs(text: string): { args: string[] | undefined; length: number } {
  if (!text.startsWith('(')) return { args: undefined, length: 0 };
  const args: string[] = [];
  let depth = 0;
  let arg = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '(' && ++depth === 1) continue;
    if (c === ')' && --depth === 0) {
      args.push(arg.trim());
      return { args, length: i + 1 };
    }
    if (c === ',' && depth === 1) {
      args.push(arg.trim());
      arg = '';
      continue;
    }
    arg += c;
  }
  return { args: undefined, length: -1 };
}

/** gtime.FormatInterval (Grafana's own form): the largest whole unit of y, d, h, m, s, ms. */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [31_536_000_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}
