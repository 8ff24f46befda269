// Every document the dashboard sends is valid against the schema the server prints: a schema
// change that breaks the dashboard fails here (npm test), not only in the browser test.
import { readFileSync } from 'node:fs';
import { buildSchema, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as documents from './documents.js';

const schema = buildSchema(readFileSync(new URL('../../../../schema/schema.graphql', import.meta.url), 'utf8'));
const fragments = [
  ...new Map(
    Object.values(documents as Record<string, DocumentNode>)
      .flatMap((d) => d.definitions)
      .flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])),
  ).values(),
];

describe('the dashboard documents', () => {
  it.each(Object.entries(documents as Record<string, DocumentNode>))('%s is valid against schema/schema.graphql', (_, document) => {
    const operation = document.definitions.filter((d) => d.kind === 'OperationDefinition');
    if (operation.length === 0) return; // a fragment: checked inside the operations that spread it
    // The generated document already carries the fragments it spreads; add any it lacks, once.
    const names = new Set(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [d.name.value] : [])));
    const full: DocumentNode = { kind: document.kind, definitions: [...document.definitions, ...fragments.filter((f) => !names.has(f.name.value))] };
    const errors = validate(schema, full).filter((e) => !/Fragment ".*" is never used/.test(e.message));
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
