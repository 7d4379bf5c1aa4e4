/**
 * Kept-alive sockets to subgraphs are closed by the router when idle, before the subgraph's server
 * would close them (Node's keepAliveTimeout), so no request is written to a closing socket
 * (ECONNRESET); a socket in use is never closed for being slow.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from '../src/gateway/httpFetcher';

let server: Server;
let base = '';
const sockets: Socket[] = [];
/** Resolves the test's wait for the next answer of /slow. */
let releaseSlow: (() => void) | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":{"ok":true}}');
    };
    req.resume();
    req.on('end', () => (req.url === '/slow' ? (releaseSlow = answer) : answer()));
  });
  // The subgraph would keep idle sockets for a minute: closing them is the router's doing.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('router → subgraph keep-alive', () => {
  it('closes a socket that stays idle longer than idleSocketMs', async () => {
    const fetcher = createSubgraphFetcher({ timeoutMs: 10_000, idleSocketMs: 100 });
    const before = sockets.length;
    expect((await fetcher(`${base}/graphql`, { body: '{}' })).status).toBe(200);
    expect(sockets.length).toBe(before + 1);
    const socket = sockets.at(-1)!;
    // The client ends the idle connection (the server would have kept it for 60 s).
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    fetcher.close();
  });

  it('keeps a socket that waits for a slow answer longer than idleSocketMs', async () => {
    const fetcher = createSubgraphFetcher({ timeoutMs: 10_000, idleSocketMs: 50 });
    const idle = createSubgraphFetcher({ timeoutMs: 10_000, idleSocketMs: 50 });
    const pending = fetcher(`${base}/slow`, { body: '{}' });
    for (let i = 0; i < 200 && !releaseSlow; i++) await new Promise((r) => setImmediate(r));
    // Another client's idle socket closing shows that more than idleSocketMs went by.
    expect((await idle(`${base}/graphql`, { body: '{}' })).status).toBe(200);
    const idleSocket = sockets.at(-1)!;
    await new Promise<void>((resolve) =>
      idleSocket.destroyed ? resolve() : idleSocket.once('close', () => resolve()),
    );
    releaseSlow!();
    expect(await (await pending).json()).toEqual({ data: { ok: true } });
    fetcher.close();
    idle.close();
  });
});
