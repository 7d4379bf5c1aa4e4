/** Runs one readiness probe with a deadline: 'ok', or why not (at most 200 characters). */
export async function probe(check: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message.slice(0, 200) : 'failed';
  } finally {
    clearTimeout(timer);
  }
}
