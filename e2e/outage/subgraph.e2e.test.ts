/**
 * A subgraph down or hung: the router's /readyz names it (503), and a client whose operation
 * needs it gets SERVICE_UNAVAILABLE, not INTERNAL_SERVER_ERROR.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { createMemoryPubSub } from '@lt/pubsub';
import { createRouterApp } from '@lt/router';
import { Cleanup, freePort, listenOnFreePort, testEnv } from '@lt/testing';
import { codes, gql } from '../support/graphql';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const LOGIN = 'mutation { login(email: "a@example.test", password: "Secret-2026") { accessToken } }';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  const port = await listenOnFreePort(server);
  cleanup.add(() => new Promise((r) => server.close(r)));
  cleanup.add(() => server.closeAllConnections());
  return { server, url: `http://127.0.0.1:${port}/graphql` };
}

describe('a subgraph down', () => {
  it('is named by /readyz and answers SERVICE_UNAVAILABLE (refused and timed out)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/graphql`;
    // Alive: answers /healthz. Hung: accepts connections, never answers.
    const alive = await serve((_req, res) => void res.end('{"status":"ok"}'));
    const hung = await serve(() => undefined);
    const supergraphSdl = readFileSync(new URL('../../router/supergraph.graphql', import.meta.url), 'utf8');
    // Login is public and planned to the auth subgraph: each router has it down in one way.
    const routerWithAuthAt = async (auth: string, tenant: string): Promise<string> => {
      const subgraphUrls = { auth, tenant, location: alive.url, streaming: alive.url };
      const router = await createRouterApp({
        supergraphSdl,
        subgraphUrls,
        contextSecret: testEnv().contextSecret,
        log: createLogger({ level: 'silent' }),
        subgraphTimeoutMs: 300,
        pubsub: createMemoryPubSub(),
      });
      const port = await router.start(0, '127.0.0.1');
      cleanup.add(() => router.stop());
      return `http://127.0.0.1:${port}`;
    };
    const refusing = await routerWithAuthAt(dead, hung.url);

    const ready = await fetch(`${refusing}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(ready.status).toBe(503);
    expect(body.checks['subgraph:auth']).toMatch(/unreachable/);
    expect(body.checks['subgraph:tenant']).toMatch(/timed out|unreachable/);
    expect(body.checks['subgraph:location']).toBe('ok');
    expect(body.checks['subgraph:streaming']).toBe('ok');

    // Connection refused → SERVICE_UNAVAILABLE.
    const refused = await gql(`${refusing}/graphql`, LOGIN);
    expect(codes(refused)).toEqual(['SERVICE_UNAVAILABLE']);
    // Past the subgraph deadline → SERVICE_UNAVAILABLE.
    const hanging = await routerWithAuthAt(hung.url, alive.url);
    const timedOut = await gql(`${hanging}/graphql`, LOGIN);
    expect(codes(timedOut)).toEqual(['SERVICE_UNAVAILABLE']);
  });
});
