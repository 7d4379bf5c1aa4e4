import { describe, expect, it } from 'vitest';
import { waitFor } from '../src/waitFor';

describe('waitFor', () => {
  it('returns the first value that is not undefined/false, after as many checks as it takes', async () => {
    let n = 0;
    expect(await waitFor(() => (++n === 3 ? 'ready' : undefined), { intervalMs: 1 })).toBe('ready');
    expect(n).toBe(3);
  });

  it('an expect failing inside the check is thrown at once, as itself (message and diff), not as a timeout', async () => {
    let n = 0;
    const failure = await waitFor(
      () => {
        n++;
        expect({ status: 'FAILED' }).toEqual({ status: 'DELIVERED' });
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 1 },
    ).catch((e: unknown) => e);
    expect(n).toBe(1);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('AssertionError');
    expect((failure as Error).message).not.toMatch(/timed out/);
    expect((failure as Error).message).toMatch(/expected/);
  });

  it('other errors mean "not yet"; at the deadline the timeout names the last one and carries it as cause', async () => {
    let n = 0;
    const failure = await waitFor(
      () => {
        throw new Error(`connection refused #${++n}`);
      },
      { timeoutMs: 30, intervalMs: 1, what: 'the server' },
    ).catch((e: unknown) => e as Error);
    expect(n).toBeGreaterThan(1);
    expect(failure.message).toBe(`timed out after 30 ms waiting for the server: connection refused #${n}`);
    expect((failure.cause as Error).message).toBe(`connection refused #${n}`);
  });

  it('an error from an earlier check is not blamed when the last checks simply answered "not yet"', async () => {
    let n = 0;
    const failure = await waitFor(
      () => {
        if (++n === 1) throw new Error('early hiccup');
        return false;
      },
      { timeoutMs: 30, intervalMs: 1, what: 'x' },
    ).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(failure.message).toBe('timed out after 30 ms waiting for x');
  });
});
