import { formatStatus, stackDown, stackStatus, stackUp } from '../stack/stack.js';
import type { EntryConfig } from './config.js';
import { parseStackArgs } from './flags.js';

export async function stackCommand(config: EntryConfig, args: string[]): Promise<number> {
  const { action } = parseStackArgs(args);
  switch (action) {
    case 'up':
      await stackUp(config.stack);
      return 0;
    case 'down':
      await stackDown(config.stack);
      return 0;
    case 'status': {
      const statuses = await stackStatus(config.stack);
      console.log(formatStatus(statuses));
      return statuses.every((s) => s.healthy) ? 0 : 1;
    }
  }
}
