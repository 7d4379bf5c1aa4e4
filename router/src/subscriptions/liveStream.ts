/**
 * What graphql-ws iterates for one live subscription. Results do not flow through it: the fan-out
 * writes `next` messages straight to the socket (fanout.ts: serialised once per group, coalesced
 * per socket). The stream only carries the end: it stays pending until `end()` (the socket closes)
 * or until graphql-ws calls `return()` (the client sent `complete`), which removes the subscriber.
 */
export class LiveStream implements AsyncIterableIterator<never> {
  private ended = false;
  private waiting: ((r: IteratorResult<never>) => void) | null = null;

  constructor(private readonly onReturn: () => void = () => undefined) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Ends the stream (idempotent): graphql-ws then completes the operation. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiting;
    this.waiting = null;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<never>> {
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<never>> {
    const wasEnded = this.ended;
    this.end();
    if (!wasEnded) this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err: unknown): Promise<IteratorResult<never>> {
    const wasEnded = this.ended;
    this.end();
    if (!wasEnded) this.onReturn();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
