/**
 * Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`.
 * For conditions without an event to wait on (e.g. a row written by another process). Bounded in
 * time, and so in the number of checks.
 *
 * - The condition is the return value; an `expect` inside `check` is an invariant: its failure is
 *   thrown at once, as the assertion error itself (message and diff), not retried into a timeout.
 * - Any other error counts as "not yet" (a server still starting, a row not there); if the time runs
 *   out while checks still throw, the timeout names the last error (and carries it as `cause`).
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  {
    timeoutMs = 10_000,
    intervalMs = 50,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (err) {
      if (isAssertionError(err)) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const why = lastError === undefined ? '' : `: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError });
}

/** A failed `expect` (vitest/chai AssertionError, or any error carrying a matcher result). */
function isAssertionError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AssertionError' || 'matcherResult' in err || (err.constructor?.name ?? '') === 'AssertionError')
  );
}
