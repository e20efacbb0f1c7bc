import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMAS_DIR = fileURLToPath(new URL('../schemas-avro', import.meta.url));

export interface SchemaFile {
  /** The topic the record is published to, as named in schemas-avro/ (unprefixed). */
  baseTopic: string;
  /** Record name, e.g. OrderCreated: also the event type of the outbox row. */
  name: string;
  /** namespace.name — the record part of the topic-record-name subject. */
  fullName: string;
  schema: { type: 'record'; name: string; namespace?: string; fields: unknown[] };
  path: string;
}

/** Every `.avsc` under schemas-avro/<topic>/ — the event contracts. */
export function loadSchemaFiles(dir = SCHEMAS_DIR): SchemaFile[] {
  const files: SchemaFile[] = [];
  for (const baseTopic of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    for (const file of readdirSync(join(dir, baseTopic)).filter((f) => f.endsWith('.avsc')).sort()) {
      const path = join(dir, baseTopic, file);
      const schema = JSON.parse(readFileSync(path, 'utf8')) as SchemaFile['schema'];
      const fullName = schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name;
      files.push({ baseTopic, name: schema.name, fullName, schema, path });
    }
  }
  return files;
}
