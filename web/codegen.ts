// Typed documents for the dashboard, generated from the schema the server prints
// (schema/schema.graphql): `npm run codegen -w web` writes src/lib/graphql/generated/. The build
// runs it first, so a schema change that breaks a document or a component fails svelte-check;
// src/lib/graphql/documents.test.ts validates every document against the schema in `npm test`.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema/schema.graphql',
  documents: ['src/lib/graphql/documents.ts'],
  ignoreNoDocuments: false,
  // The root tsconfig (node16 resolution) checks these files too: relative imports need the extension.
  importExtension: '.js',
  generates: {
    'src/lib/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        onlyOperationTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
