/** The value of `--flag value` or `--flag=value`, or undefined. */
export function flagValue(args: string[], flag: string): string | undefined {
  const index = args.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (index < 0) return undefined;
  const arg = args[index]!;
  return arg.includes('=') ? arg.slice(flag.length + 1) : args[index + 1];
}
