/**
 * Hostile input at the router, through the real stack: each answers a documented code (never
 * INTERNAL_SERVER_ERROR, never an HTML page or an empty body), quickly and before planning; the
 * WebSocket subscription path validates and limits exactly like HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTenant } from '@lt/testing';
import { codes, gql, type GraphQLResponse } from '../support/graphql';
import { bearer, createUserWithToken, startAuthedStack, type AuthedStack, type TestUser } from '../support/identity';
import { LiveSocket } from '../location/liveSocket';

let stack: AuthedStack;
let member: TestUser;
const sockets: LiveSocket[] = [];
beforeAll(async () => {
  stack = await startAuthedStack();
  const tenant = await createTestTenant(stack.db, 'hostile');
  member = await createUserWithToken(stack, { tenantId: tenant.id, role: 'MEMBER' });
});
afterAll(async () => {
  await Promise.allSettled(sockets.map((s) => s.close()));
  await stack?.stop();
});

/** POSTs a raw body; returns status, content type and the parsed JSON (or the text). */
async function post(body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(stack.routerUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: GraphQLResponse | null = null;
  try {
    json = JSON.parse(text) as GraphQLResponse;
  } catch {
    json = null;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

const doubling = (n: number) =>
  `query { ...F1 } ` +
  Array.from({ length: n }, (_, i) =>
    i === n - 1
      ? `fragment F${n} on Query { __typename }`
      : `fragment F${i + 1} on Query { ...F${i + 2} ...F${i + 2} }`,
  ).join(' ');
const deepInline = (n: number) => `{ ${'... on Query { '.repeat(n)}__typename${' }'.repeat(n)} }`;

describe('operation size, before planning', () => {
  it('a 21-level fragment doubling (2^20 fields expanded) is OPERATION_LIMIT_EXCEEDED', async () => {
    const r = await post({ query: doubling(21) });
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions).toMatchObject({
      code: 'OPERATION_LIMIT_EXCEEDED',
      limit: 'expandedFields',
      actual: 2 ** 20,
    });
    // Within the limits the same shape is planned and answered.
    const small = await post({ query: doubling(4) });
    expect(small.json).toEqual({ data: { __typename: 'Query' } });
  });

  it('1,500 nested inline fragments: 400 OPERATION_LIMIT_EXCEEDED (nesting), not a stack overflow', async () => {
    const r = await post({ query: deepInline(1500) });
    expect(r.status).toBe(400);
    expect(r.json?.errors?.[0]?.extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'nesting' });
    expect((await post({ query: deepInline(30) })).json).toEqual({ data: { __typename: 'Query' } });
  });

  it('a document over the token limit: 400 GRAPHQL_PARSE_FAILED', async () => {
    const r = await post({ query: `{ ${'__typename '.repeat(6_000)}}` });
    expect(r.status).toBe(400);
    expect(codes(r.json!)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });
});

describe('request shape', () => {
  it('an operationName matching no operation, or two anonymous operations: GRAPHQL_VALIDATION_FAILED', async () => {
    for (const body of [
      { query: '{ __typename }', operationName: 'Nope' },
      { query: 'query A { __typename } query B { __typename }', operationName: 'C' },
      { query: 'query A { __typename } query B { __typename }' },
      { query: '{ __typename } { __typename }' },
    ]) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(new Set(codes(r.json!)), JSON.stringify(body)).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    }
  });

  it('persisted-query extensions, well-formed or not: PERSISTED_QUERY_NOT_SUPPORTED', async () => {
    const hash = 'a'.repeat(64);
    for (const persistedQuery of [
      { version: 2, sha256Hash: hash },
      { version: 1, sha256Hash: hash },
      { version: 1, sha256Hash: 'wrong' },
      'x',
      5,
      [1],
    ]) {
      for (const body of [
        { query: '{ __typename }', extensions: { persistedQuery } },
        { extensions: { persistedQuery } },
      ]) {
        const r = await post(body);
        expect(codes(r.json!), JSON.stringify(body)).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
        expect(r.status).toBeLessThan(500);
      }
    }
  });

  it('an invalid DateTime variable: the subgraph BAD_USER_INPUT, naming the field, reaches the client', async () => {
    const s = await gql<{ startLocationSession: { id: string } }>(
      stack.routerUrl,
      'mutation { startLocationSession(input: { deviceId: "hostile" }) { id } }',
      {},
      bearer(member),
    );
    const sessionId = s.data!.startLocationSession.id;
    const RECORD = `mutation($s: ID!, $t: DateTime!) {
      recordLocations(sessionId: $s, locations: [{ latitude: 1, longitude: 1, recordedAt: $t }]) { accepted } }`;
    for (const t of ['now', '2026-13-01T00:00:00Z', 5]) {
      const r = await gql(stack.routerUrl, RECORD, { s: sessionId, t }, bearer(member));
      // The subgraph's argument guard names the argument path the variable fills.
      expect(r.errors?.[0]?.extensions, String(t)).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'locations[0].recordedAt',
      });
      expect(r.status).toBeLessThan(500);
    }
    const RECORD_INPUT = `mutation($s: ID!, $l: [LocationInput!]!) { recordLocations(sessionId: $s, locations: $l) { accepted } }`;
    const r = await gql(
      stack.routerUrl,
      RECORD_INPUT,
      { s: sessionId, l: [{ latitude: 1, longitude: 1, recordedAt: 'soon' }] },
      bearer(member),
    );
    expect(r.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'locations[0].recordedAt' });
    // The router's own variable checks name the variable too.
    const missing = await gql(
      stack.routerUrl,
      'query($id: ID!) { locationSession(id: $id) { id } }',
      {},
      bearer(member),
    );
    expect(missing.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
    // Nothing was written.
    const after = await gql<{ locationSession: { pointCount: number } }>(
      stack.routerUrl,
      'query($id: ID!) { locationSession(id: $id) { pointCount } }',
      { id: sessionId },
      bearer(member),
    );
    expect(after.data?.locationSession.pointCount).toBe(0);
  });
});

describe('HTTP-level refusals are JSON with a code, without internals', () => {
  const noInternals = (text: string) => {
    expect(text).not.toMatch(/<html|<pre|node_modules|\/work\/|at [A-Za-z.]+ \(/i);
  };

  it('unsupported Content-Encoding or charset, malformed JSON: 4xx BAD_REQUEST', async () => {
    const cases: [Record<string, string>, string, number][] = [
      [{ 'content-encoding': 'br2' }, '{"query":"{ __typename }"}', 415],
      [{ 'content-type': 'application/json; charset=bogus' }, '{"query":"{ __typename }"}', 415],
      [{}, '{"query": ', 400],
    ];
    for (const [headers, body, status] of cases) {
      const r = await post(body, headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      expect(r.type).toMatch(/application\/json/);
      expect(codes(r.json!)).toEqual(['BAD_REQUEST']);
      noInternals(r.text);
    }
  });

  it('an Authorization header over 16 KB: 431 with a JSON OPERATION_LIMIT_EXCEEDED body', async () => {
    const r = await post({ query: '{ __typename }' }, { authorization: `Bearer ${'a'.repeat(17 * 1024)}` });
    expect(r.status).toBe(431);
    expect(r.type).toMatch(/application\/json/);
    expect(r.json?.errors?.[0]?.extensions).toEqual({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'headerSize' });
    // The router still answers afterwards.
    expect((await post({ query: '{ __typename }' })).json).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('/metrics', () => {
  it('40 requests with 50 KB operation names (one with a NUL) keep /metrics small and printable', async () => {
    const metrics = () =>
      fetch(stack.routerUrl.replace(/\/graphql$/, '/metrics'), { signal: AbortSignal.timeout(5_000) }).then((r) =>
        r.text(),
      );
    const before = (await metrics()).length;
    for (let i = 0; i < 40; i++) {
      const name = `Op${i}_`.padEnd(50_000, 'A');
      // Half name an operation the document defines, half name one it does not (with a NUL once).
      const body =
        i % 2 === 0
          ? { query: `query ${name} { __typename }`, operationName: name }
          : { query: '{ __typename }', operationName: i === 7 ? `${name}\u0000` : name };
      const r = await post(body);
      expect(r.status).toBeLessThan(500);
    }
    const after = await metrics();
    expect(after).not.toContain('\u0000');
    expect(after).not.toContain(
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    // Two label values at most were added (`other`, plus `anonymous` if it was not there yet).
    expect(after.length - before).toBeLessThan(4_000);
  });
});

describe('subscriptions over WebSocket validate and limit like HTTP', () => {
  async function open(): Promise<LiveSocket> {
    const s = await LiveSocket.open(stack.routerUrl, `Bearer ${member.accessToken}`);
    sockets.push(s);
    await s.acked();
    return s;
  }

  it('locationUpdated(sessionId: 5) answers what HTTP answers for that id, and streams nothing', async () => {
    const http = await gql(stack.routerUrl, '{ locationSession(id: 5) { id } }', {}, bearer(member));
    const httpCode = http.errors?.[0]?.extensions?.['code'];
    expect(['NOT_FOUND', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(httpCode);
    const ws = await open();
    ws.subscribe('lit', 'subscription { locationUpdated(sessionId: 5) { point { id } } }');
    expect((await ws.error('lit')).map((e) => e.extensions?.['code'])).toEqual([httpCode]);
    ws.subscribe('var', 'subscription($s: ID) { locationUpdated(sessionId: $s) { point { id } } }', { s: 5 });
    expect((await ws.error('var')).map((e) => e.extensions?.['code'])).toEqual([httpCode]);
    expect(stack.subscriptions()!.stats().subscriptions).toBe(0);
  });

  it('every refusal carries extensions.code', async () => {
    const ws = await open();
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['type', 'subscription { locationUpdated(sessionId: true) { point { id } } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
      ['field', 'subscription { locationUpdated { nope } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
      ['syntax', 'subscription { locationUpdated { ', {}, 'GRAPHQL_PARSE_FAILED'],
      ['nesting', `subscription { locationUpdated ${deepInline(1500).slice(1)}`, {}, 'OPERATION_LIMIT_EXCEEDED'],
      [
        'depth',
        'subscription { locationUpdated { session { user { tenant { users { edges { node { tenant { users { edges { node { tenant { id } } } } } } } } } } } } }',
        {},
        'OPERATION_LIMIT_EXCEEDED',
      ],
      ['variable', 'subscription($s: ID!) { locationUpdated(sessionId: $s) { point { id } } }', {}, 'BAD_USER_INPUT'],
    ];
    const admissions = stack.subscriptions()!.stats().admissions;
    for (const [id, query, variables] of cases) ws.subscribe(id, query, variables);
    for (const [id, , , code] of cases) {
      const errors = await ws.error(id);
      expect(errors.length, id).toBeGreaterThan(0);
      expect(new Set(errors.map((e) => e.extensions?.['code'])), id).toEqual(new Set([code]));
      expect(errors.every((e) => e.extensions?.['http'] === undefined)).toBe(true);
    }
    // All refused on the socket's own checks, before any admission ran an operation upstream.
    expect(stack.subscriptions()!.stats().admissions).toBe(admissions);
    ws.subscribe('varfield', 'subscription($s: ID!) { locationUpdated(sessionId: $s) { point { id } } }', { s: [1] });
    expect((await ws.error('varfield')).map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: 's' }]);
    ws.send({
      id: 'name',
      type: 'subscribe',
      payload: { query: 'subscription A { sessionEvents { type } }', operationName: 'B' },
    });
    expect((await ws.error('name')).map((e) => e.extensions?.['code'])).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});
