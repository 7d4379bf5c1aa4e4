import { getOperationAST, parse, print, stripIgnoredCharacters } from 'graphql';
import { describe, expect, it } from 'vitest';
import { analyseSubscription, eventVariables } from '../src/subscriptions/operation';
import { LiveStream } from '../src/subscriptions/liveStream';

const analyse = (q: string, vars: Record<string, unknown> = {}) => {
  const doc = parse(q);
  return analyseSubscription(doc, getOperationAST(doc)!, vars);
};

describe('analyseSubscription', () => {
  it('re-expresses the selection as a query on the re-read field, keeping aliases, fragments and used variables', () => {
    const op = analyse(
      `subscription Watch($s: ID, $n: Int, $unused: String) {
        live: locationUpdated(sessionId: $s) { ...U session { points(first: $n) { edges { cursor } } } }
      }
      fragment U on LocationUpdate { point { latitude } }`,
      { s: 'abc', n: 3, unused: 'x' },
    );
    expect(op.field).toBe('locationUpdated');
    expect(op.sessionId).toBe('abc');
    expect(op.variables).toEqual({ n: 3 });
    const text = stripIgnoredCharacters(print(op.refetch));
    expect(text).toContain('query Watch($n:Int$__live_pointIds:[ID!]!)');
    expect(text).toContain('live:liveLocationUpdates(pointIds:$__live_pointIds)');
    expect(text).toContain('fragment U on LocationUpdate');
    expect(text).not.toContain('$unused');
    expect(eventVariables(op, { pointIds: ['P'] })).toEqual({ n: 3, __live_pointIds: ['P'] });
  });

  it('gives the unaliased root field its own name as the response key', () => {
    const op = analyse('subscription { sessionEvents { type } }');
    expect(stripIgnoredCharacters(print(op.refetch))).toContain(
      'sessionEvents:liveSessionEvent(sessionId:$__live_sessionId type:$__live_type at:$__live_at)',
    );
    expect(op.sessionId).toBeNull();
  });

  it('identical operations share a key; different arguments or selections do not', () => {
    const a = analyse('subscription { locationUpdated { point { id } } }');
    const b = analyse('subscription   {  locationUpdated { point { id } } }');
    const c = analyse('subscription { locationUpdated(sessionId: "x") { point { id } } }');
    const d = analyse('subscription { locationUpdated { point { id latitude } } }');
    expect(a.key).toBe(b.key);
    expect(new Set([a.key, c.key, d.key]).size).toBe(3);
  });

  it('reads sessionId as the HTTP path coerces an ID: an Int literal is its string, never "absent"', () => {
    expect(analyse('subscription { locationUpdated(sessionId: 5) { point { id } } }').sessionId).toBe('5');
    expect(analyse('subscription { locationUpdated(sessionId: "s") { point { id } } }').sessionId).toBe('s');
    expect(analyse('subscription { locationUpdated(sessionId: null) { point { id } } }').sessionId).toBeNull();
    const q = 'subscription($s: ID) { locationUpdated(sessionId: $s) { point { id } } }';
    expect(analyse(q, { s: '7' }).sessionId).toBe('7');
    expect(analyse(q).sessionId).toBeNull();
    // Variables reach it coerced by the engine; an uncoerced number is refused, not ignored.
    expect(() => analyse(q, { s: 5 })).toThrow(/sessionId must be an ID/);
    expect(() => analyse('subscription { locationUpdated(sessionId: 1.5) { point { id } } }')).toThrow(
      /sessionId must be an ID/,
    );
  });

  it('refuses reserved variable names and unknown fields with BAD_USER_INPUT', () => {
    expect(() => analyse('subscription($__live_x: ID) { sessionEvents { type } }')).toThrow(/reserved/);
    expect(() => analyse('subscription { somethingElse { id } }')).toThrow(/Unknown subscription field/);
  });
});

describe('LiveStream', () => {
  it('stays pending until it ends, then reports done (graphql-ws completes the operation)', async () => {
    const stream = new LiveStream();
    let settled = false;
    const pending = stream.next().then((r) => ((settled = true), r));
    // One full turn of the event loop (every queued microtask runs): still pending.
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    stream.end();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(stream.isEnded).toBe(true);
  });

  it('calls its owner once on return() (client complete), not after it already ended', async () => {
    let returned = 0;
    const a = new LiveStream(() => returned++);
    const pending = a.next();
    await a.return();
    await a.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
    const b = new LiveStream(() => returned++);
    b.end();
    await b.return();
    expect(returned).toBe(1);
  });
});
