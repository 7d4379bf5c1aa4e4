/**
 * The router's subgraph HTTP client against a local server: what it sends, kept-alive sockets,
 * the deadline of a hanging subgraph, the response size cap, non-2xx answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from '../src/gateway/httpFetcher';

let server: Server;
let base = '';
let connections = 0;
/** Resolves each time a /hang request's connection is closed by the client (given up). */
const hangClosed: (() => void)[] = [];
const seen: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
    if (req.url === '/hang') {
      res.on('close', () => hangClosed.shift()?.()); // never answers; the client gives up
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"data":"${'x'.repeat(64 * 1024)}"}`);
      return;
    }
    if (req.url === '/down') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ data: { ok: true } }));
  });
}

beforeAll(async () => {
  server = createServer(handle);
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('subgraph fetcher', () => {
  it('posts the body with the given headers and answers like fetch for what the gateway reads', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 2_000 });
    try {
      const res = await f(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-router-context': 'signed' },
        body: '{"query":"{ ok }"}',
      });
      expect(res.ok).toBe(true);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-missing')).toBeNull();
      expect(await res.json()).toEqual({ data: { ok: true } });
      const last = seen.at(-1)!;
      expect(last).toMatchObject({ method: 'POST', body: '{"query":"{ ok }"}' });
      expect(last.headers['x-router-context']).toBe('signed');
      expect(last.headers['content-length']).toBe('18');
    } finally {
      f.close();
    }
  });

  it('keeps sockets alive between calls', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 2_000 });
    try {
      const before = connections;
      for (let i = 0; i < 20; i++) await f(`${base}/graphql`, { body: '{}' });
      expect(connections - before).toBe(1);
    } finally {
      f.close();
    }
  });

  it('gives up on a subgraph that does not answer within the deadline', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 200 });
    try {
      const closed = new Promise<void>((r) => hangClosed.push(r));
      const before = seen.length;
      const err = await f(`${base}/hang`, { body: '{}' }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('TimeoutError');
      // The request reached the subgraph, and giving up closed it (no request left hanging).
      expect(seen.slice(before).map((s) => s.method)).toEqual(['POST']);
      await closed;
    } finally {
      f.close();
    }
  });

  it('refuses a response larger than the cap', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 2_000, maxResponseBytes: 16 * 1024 });
    try {
      await expect(f(`${base}/big`, { body: '{}' })).rejects.toThrow(/over 16384 bytes/);
    } finally {
      f.close();
    }
  });

  it('hands non-2xx answers back (the gateway turns them into errors)', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 2_000 });
    try {
      const res = await f(`${base}/down`, { body: '{}' });
      expect(res.ok).toBe(false);
      expect(res.status).toBe(503);
      expect(res.statusText).toBe('Service Unavailable');
      expect(await res.text()).toBe('unavailable');
    } finally {
      f.close();
    }
  });

  it('fails fast when nothing listens', async () => {
    const f = createSubgraphFetcher({ timeoutMs: 2_000 });
    try {
      await expect(f('http://127.0.0.1:9/graphql', { body: '{}' })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      f.close();
    }
  });

  it('sends once more on a fresh socket when a kept-alive one is reset before any answer', async () => {
    // Answers the first request of each connection and keeps it open; a second request on the
    // same connection gets a reset (a subgraph closing an idle kept-alive socket as it is reused).
    const sockets: Socket[] = [];
    const tcp = createTcpServer((socket) => {
      sockets.push(socket);
      let requests = 0;
      socket.on('data', (chunk) => {
        if (!String(chunk).includes('\r\n\r\n')) return;
        if (++requests > 1) return socket.resetAndDestroy();
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\n{"data":{}}',
        );
      });
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(tcp.address() as { port: number }).port}/graphql`;
    const f = createSubgraphFetcher({ timeoutMs: 5_000, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await f(url, { method: 'POST', body: '{}' });
        expect(await res.json()).toEqual({ data: {} });
      }
      // Calls 2 and 3 each met a reset on the reused socket and went through on a new one.
      expect(sockets).toHaveLength(3);
    } finally {
      f.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => tcp.close(r));
    }
  });
});
