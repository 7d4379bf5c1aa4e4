import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Three kinds of tests (README, "Tests and checks"): unit (`*.test.ts`, no I/O), integration
// (`*.int.test.ts`, real Postgres/Redis/Kafka/cognito-local) and end-to-end (`e2e/**/*.e2e.test.ts`,
// the running supergraph).
// The global setup makes sure the database exists and is migrated; a missing service fails the run.
const ignore = ['**/node_modules/**', '**/generated/**', '.data/**'];

export default defineConfig({
  // One `graphql` module, as in production: Node resolves the bare import to graphql's CJS `main`
  // (what @apollo/* and graphql-ws load), while Vite would pick its ESM `module` build for source
  // files — two realms, and `instanceof GraphQLSchema/GraphQLError` checks fail across them.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...ignore, '**/*.int.test.ts', '**/*.e2e.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ignore,
          globalSetup: ['packages/testing/src/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          exclude: ignore,
          globalSetup: ['packages/testing/src/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
