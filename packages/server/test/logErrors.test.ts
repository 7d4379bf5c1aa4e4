import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { maskError, notFound } from '@lt/errors';
import { createLogger } from '@lt/logger';
import { logUnexpectedErrors } from '../src/logErrors';

interface Ctx {
  caller: { requestId: string };
}

describe('unexpected errors', () => {
  it('are logged with the request id and masked for the client; expected ones are not logged', async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const server = new ApolloServer<Ctx>({
      typeDefs: 'type Query { boom: Int, missing: Int }',
      resolvers: {
        Query: {
          boom: () => {
            throw new Error('relation "secret_table" does not exist');
          },
          missing: () => {
            throw notFound('Session');
          },
        },
      },
      plugins: [logUnexpectedErrors<Ctx>(log)],
      formatError: (f, e) => maskError(f, e),
    });
    await server.start();
    try {
      const res = await server.executeOperation(
        { query: '{ boom missing }' },
        { contextValue: { caller: { requestId: 'req-42' } } },
      );
      const body = res.body.kind === 'single' ? res.body.singleResult : undefined;
      expect(body?.errors?.map((e) => [e.message, e.extensions?.['code']])).toEqual([
        ['Internal server error', 'INTERNAL_SERVER_ERROR'],
        ['Session not found', 'NOT_FOUND'],
      ]);
      expect(JSON.stringify(body)).not.toContain('secret_table');
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 'error', msg: 'unexpected error', requestId: 'req-42', path: ['boom'] });
      expect(lines[0]).toContain('secret_table');
    } finally {
      await server.stop();
    }
  });
});
