// GraphQL Code Generator: typed operations for clients, from the composed API schema
// (router/schema.graphql, written by `npm run compose`). `npm run codegen` writes them;
// `npm run codegen:check` (part of `npm run check`) fails when they are stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const out = process.env['CODEGEN_OUT'] ?? 'examples/client/src/gql/';

const config: CodegenConfig = {
  schema: 'router/schema.graphql',
  documents: ['examples/client/src/**/*.ts', '!examples/client/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
