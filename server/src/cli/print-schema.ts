/** `npm run schema:print` — writes the SDL of the built-in tasks to schema/schema.graphql. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildSchema, printSchemaSDL } from '../graphql/schema.js';
import { TaskRegistry } from '../tasks/task-registry.js';

export const schemaFile = fileURLToPath(new URL('../../../schema/schema.graphql', import.meta.url));

const sdl = printSchemaSDL(buildSchema(await TaskRegistry.load()));
await writeFile(schemaFile, sdl);
console.log(`wrote ${schemaFile} (${sdl.split('\n').length} lines)`);
