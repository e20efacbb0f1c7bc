import { AvroRegistry } from '../registry/avro-registry.js';
import { loadSchemaFiles, SCHEMAS_DIR } from '../registry/catalog.js';
import type { EntryConfig } from './config.js';
import { parseSchemasArgs } from './flags.js';

/**
 * `shopstream schemas check [--dir D]`: is every .avsc compatible with what its subject has in the
 * registry (exit 1 when not)? `shopstream schemas register [--dir D]`: registers them (idempotent).
 */
export async function schemasCommand(config: EntryConfig, args: string[]): Promise<number> {
  const { action, dir } = parseSchemasArgs(args);
  const files = loadSchemaFiles(dir ?? SCHEMAS_DIR);
  const registry = new AvroRegistry({ url: config.registryUrl, topicFor: (base) => `${config.topicPrefix}${base}` }, files);
  if (action === 'register') {
    for (const schema of await registry.registerAll()) console.log(`registered ${schema.subject} (id ${schema.id})`);
    return 0;
  }
  const results = await registry.check();
  for (const result of results) {
    console.log(`${result.status.padEnd(12)} ${result.subject}${result.messages.length ? `\n             ${result.messages.join('\n             ')}` : ''}`);
  }
  const bad = results.filter((r) => r.status === 'incompatible');
  console.log(bad.length === 0 ? `${results.length} schemas checked: all can be registered.` : `${bad.length} of ${results.length} schemas are incompatible with the registry.`);
  return bad.length === 0 ? 0 : 1;
}
