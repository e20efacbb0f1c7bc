import { formatStatus, stackDown, stackStatus, stackUp } from '../stack/stack.js';
import type { EntryConfig } from './config.js';

export async function stackCommand(config: EntryConfig, args: string[]): Promise<number> {
  const [action] = args;
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
    default:
      console.error('usage: shopstream stack up|down|status');
      return 2;
  }
}
