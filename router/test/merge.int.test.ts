/**
 * Merging of identical in-flight subgraph queries, through the router's data source, signer and
 * HTTP client against a subgraph that verifies the signed context and answers as the caller it
 * reads there. Callers that differ in tenant or role never share an answer; the same caller's
 * identical queries share one call; mutations never do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, verifyContext, type Caller, type Membership } from '@lt/context';
import { createContextSigner } from '../src/gateway/contextSigner';
import { SignedContextDataSource } from '../src/gateway/dataSource';
import { createSubgraphFetcher } from '../src/gateway/httpFetcher';
import { MERGE_HEADER, mergingFetcher } from '../src/gateway/merge';

const secret = 'merge-test-secret-merge-test-secret-0123';
let server: Server;
let url = '';
/** Requests the subgraph received, as the caller it verified. */
const received: { caller: Caller; body: string; marker: boolean }[] = [];
/** Answers are held until this many requests are in: they are all in flight together. */
let holdUntil = 0;
let held: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const caller = verifyContext(req.headers[CONTEXT_HEADER] as string, {
        secret,
        requestId: req.headers[REQUEST_ID_HEADER] as string,
      });
      received.push({ caller, body: Buffer.concat(chunks).toString(), marker: MERGE_HEADER in req.headers });
      const m = caller.membership!;
      held.push(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { me: { id: m.userId, tenantId: m.tenantId, role: m.role } } }));
      });
      if (held.length >= holdUntil) {
        for (const answer of held) answer();
        held = [];
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const member = (userId: string, tenantId: string, role: Membership['role']): Membership => ({
  userId,
  sub: `sub-${userId}`,
  tenantId,
  role,
  tenantStatus: 'ACTIVE',
});
const caller = (membership: Membership): Caller => ({
  membership,
  requestId: randomUUID(),
  tokenId: `jti-${membership.userId}`,
  tokenExpiresAt: 2_000_000_000,
  clientAddress: '127.0.0.1',
});

function setup() {
  const fetcher = mergingFetcher(createSubgraphFetcher({ timeoutMs: 10_000 }));
  const source = new SignedContextDataSource(url, createContextSigner({ secret }), fetcher);
  const run = (c: Caller, operation: 'query' | 'mutation', query: string) =>
    source.process({
      kind: 'incoming operation' as never,
      request: { query, variables: {} },
      context: { caller: c },
      incomingRequestContext: { operation: { operation } } as never,
    });
  return { fetcher, run };
}

describe('merged subgraph queries', () => {
  it('never gives one caller the answer of a caller of another tenant or role; merges the same caller', async () => {
    received.length = 0;
    const { fetcher, run } = setup();
    const a = member('aaaaaaaa-0000-4000-8000-000000000001', T1, 'MEMBER');
    const callers = [
      caller(a),
      caller(member('bbbbbbbb-0000-4000-8000-000000000002', T2, 'MEMBER')), // another tenant
      caller({ ...a, tenantId: T2 }), // same user id, another tenant
      caller({ ...a, role: 'TENANT_ADMIN' }), // same user and tenant, another role
      caller(a), // the first caller again, another request
    ];
    holdUntil = 4; // the four distinct callers are all in flight before any answer
    const query = 'query Me__auth__0{me{id tenantId role}}';
    const results = await Promise.all(callers.map((c) => run(c, 'query', query)));
    results.forEach((r, i) => {
      const m = callers[i]!.membership!;
      expect(r.data).toEqual({ me: { id: m.userId, tenantId: m.tenantId, role: m.role } });
    });
    // Four calls for four identities; the repeated caller shared the first one's call.
    expect(received).toHaveLength(4);
    expect(fetcher.merged()).toBe(1);
    // The marker never leaves the router; the request id is the first caller's.
    expect(received.every((r) => !r.marker)).toBe(true);
    expect(received[0]!.caller.requestId).toBe(callers[0]!.requestId);
    fetcher.close();
  });

  it('never merges mutations, nor the queries of a mutation', async () => {
    received.length = 0;
    const { fetcher, run } = setup();
    const c = caller(member('cccccccc-0000-4000-8000-000000000003', T1, 'MEMBER'));
    holdUntil = 4;
    await Promise.all([
      run(c, 'mutation', 'mutation M__location__0{recordLocation{id}}'),
      run(c, 'mutation', 'mutation M__location__0{recordLocation{id}}'),
      // An entity fetch planned inside a mutation: a query, but after a write.
      run(
        c,
        'mutation',
        'query M__auth__1($representations:[_Any!]!){_entities(representations:$representations){id}}',
      ),
      run(
        c,
        'mutation',
        'query M__auth__1($representations:[_Any!]!){_entities(representations:$representations){id}}',
      ),
    ]);
    expect(received).toHaveLength(4);
    expect(fetcher.merged()).toBe(0);
    fetcher.close();
  });
});
