/**
 * The contract every PubSub implementation passes (STYLE.md §13): run by memory.test.ts and
 * redis.int.test.ts against their own factory. `make` returns two handles on one transport
 * (two processes' view, e.g. two Redis connections pairs) and a cleanup.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@lt/testing';
import { tenantChannel } from '../src/channels';
import type { PubSub } from '../src/types';

export interface PubSubPair {
  a: PubSub;
  b: PubSub;
  stop(): Promise<void>;
}

/** Resolves with the first `n` messages a listener receives, or rejects after `timeoutMs`. */
function collect(
  ps: PubSub,
  channel: string,
  n: number,
  timeoutMs = 5_000,
): Promise<{ ready: Promise<() => Promise<void>>; messages: Promise<string[]> }> {
  const got: string[] = [];
  let resolveAll!: (v: string[]) => void;
  let rejectAll!: (e: Error) => void;
  const messages = new Promise<string[]>((res, rej) => {
    resolveAll = res;
    rejectAll = rej;
  });
  const timer = setTimeout(() => rejectAll(new Error(`timed out with ${got.length}/${n} messages`)), timeoutMs);
  const ready = ps.subscribe(channel, (m) => {
    got.push(m);
    if (got.length === n) {
      clearTimeout(timer);
      resolveAll(got);
    }
  });
  return Promise.resolve({ ready, messages });
}

export function pubSubContract(name: string, make: () => Promise<PubSubPair>): void {
  describe(`PubSub contract: ${name}`, () => {
    let pair: PubSubPair | undefined;
    afterEach(async () => {
      await pair?.stop();
      pair = undefined;
    });

    it('delivers to a listener on another handle, in publish order', async () => {
      pair = await make();
      const ch = tenantChannel(randomUUID(), 'live');
      const { ready, messages } = await collect(pair.b, ch, 3);
      await ready;
      for (const m of ['1', '2', '3']) await pair.a.publish(ch, m);
      expect(await messages).toEqual(['1', '2', '3']);
    });

    it("never delivers one tenant's channel to another tenant's listener", async () => {
      pair = await make();
      const t1 = tenantChannel(randomUUID(), 'live');
      const t2 = tenantChannel(randomUUID(), 'live');
      const other: string[] = [];
      await pair.b.subscribe(t2, (m) => other.push(m));
      const { ready, messages } = await collect(pair.b, t1, 2);
      await ready;
      await pair.a.publish(t1, 'x');
      await pair.a.publish(t1, 'y');
      // t1's listener got both; by then (same connection, ordered) a t2 message would have arrived.
      expect(await messages).toEqual(['x', 'y']);
      expect(other).toEqual([]);
    });

    it('delivers to every local listener, and unsubscribing one keeps the others', async () => {
      pair = await make();
      const ch = tenantChannel(randomUUID(), 'live');
      const first: string[] = [];
      const unsubscribe = await pair.b.subscribe(ch, (m) => first.push(m));
      const { ready, messages } = await collect(pair.b, ch, 2);
      await ready;
      await pair.a.publish(ch, 'one');
      // 'one' must have reached b's listeners before the sentinel subscribes (Redis delivers
      // asynchronously); otherwise the sentinel would legitimately receive it too.
      await waitFor(() => first.length === 1, { timeoutMs: 5_000, intervalMs: 5, what: "'one' delivered" });
      const { ready: sentinelReady, messages: sentinel } = await collect(pair.b, ch, 1);
      await sentinelReady;
      await unsubscribe();
      await unsubscribe(); // idempotent
      await pair.a.publish(ch, 'two');
      expect(await messages).toEqual(['one', 'two']);
      expect(await sentinel).toEqual(['two']);
      expect(first).toEqual(['one']);
    });

    it('a publish with no listener is dropped, not queued', async () => {
      pair = await make();
      const ch = tenantChannel(randomUUID(), 'live');
      await pair.a.publish(ch, 'lost');
      const { ready, messages } = await collect(pair.b, ch, 1);
      await ready;
      await pair.a.publish(ch, 'seen');
      expect(await messages).toEqual(['seen']);
    });

    it('tenantChannel refuses a missing or malformed tenant id', () => {
      expect(() => tenantChannel('', 'live')).toThrow(TypeError);
      expect(() => tenantChannel('*', 'live')).toThrow(TypeError);
      expect(() => tenantChannel('a:b', 'live')).toThrow(TypeError);
    });
  });
}
