/**
 * A bounded single-consumer async queue. `push` never blocks and never grows past `capacity`:
 * it returns false instead, and the owner decides (the engine drops the slow consumer).
 * Implements the async-generator surface graphql-ws expects (`return` stops it).
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;

  constructor(
    readonly capacity: number,
    private readonly onReturn: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Adds an item; false when the queue is full or ended (nothing is added). */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  /** Ends the stream and drops the backlog (the subscriber is gone or being closed). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.items.length = 0;
    const w = this.waiting;
    this.waiting = null;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err: unknown): Promise<IteratorResult<T>> {
    this.end();
    this.onReturn();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
