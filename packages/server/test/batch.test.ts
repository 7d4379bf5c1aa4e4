/** Per-request batching of entity references: one load per type per request, nothing shared across requests. */
import { describe, expect, it } from 'vitest';
import { byId, loadBatched } from '../src/index';

const row = (id: string) => ({ id, name: `n-${id}` });

describe('loadBatched', () => {
  it('answers the ids asked for in one pass with ONE load of the distinct ids', async () => {
    const calls: string[][] = [];
    const loadMany = async (ids: string[]) => {
      calls.push(ids);
      return byId(ids.filter((id) => id !== 'hidden').map(row));
    };
    const ctx = {};
    const ids = ['a', 'b', 'a', 'hidden', 'b', 'a'];
    const got = await Promise.all(ids.map((id) => loadBatched(ctx, 'User', id, loadMany)));
    expect(calls).toEqual([['a', 'b', 'hidden']]);
    expect(got).toEqual([row('a'), row('b'), row('a'), null, row('b'), row('a')]);
    // Asked again later in the same request: answered from the request's cache.
    expect(await loadBatched(ctx, 'User', 'b', loadMany)).toEqual(row('b'));
    expect(calls).toHaveLength(1);
  });

  it('keeps requests and types apart', async () => {
    const calls: string[][] = [];
    const loadMany = async (ids: string[]) => {
      calls.push(ids);
      return byId(ids.map(row));
    };
    const [r1, r2] = [{}, {}];
    await Promise.all([
      loadBatched(r1, 'User', 'a', loadMany),
      loadBatched(r2, 'User', 'a', loadMany),
      loadBatched(r1, 'Session', 'a', loadMany),
    ]);
    expect(calls).toEqual([['a'], ['a'], ['a']]);
  });

  it('rejects every waiter of a failed load', async () => {
    const ctx = {};
    const fail = () => Promise.reject(new Error('db down'));
    const all = await Promise.allSettled([loadBatched(ctx, 'User', 'a', fail), loadBatched(ctx, 'User', 'b', fail)]);
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
