/**
 * The contract every PubSub implementation passes: run by memory.test.ts and
 * redis.int.test.ts against their own factory. `make` returns two handles on one transport
 * (two processes' view, e.g. two Redis connections pairs) and a cleanup.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLiveEvent, LIVE_PAYLOAD_MAX_POINTS, parseLiveEvent, type LiveEvent } from '@lt/events';
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

/** A point event with its optional payload (n points, all fields set or null). */
function pointEvent(n: number): Extract<LiveEvent, { kind: 'location' }> {
  const sessionId = randomUUID();
  const userId = randomUUID();
  const points = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    latitude: 52.5 + i / 1_000,
    longitude: -13.4,
    accuracy: 3.5,
    altitude: null,
    speed: 0,
    heading: null,
    recordedAt: new Date(1_700_000_000_000 + i).toISOString(),
    receivedAt: new Date(1_700_000_100_000 + i).toISOString(),
  }));
  return {
    kind: 'location',
    tenantId: randomUUID(),
    sessionId,
    userId,
    points: points.map((p) => ({ id: p.id, recordedAt: p.recordedAt })),
    payload: {
      session: {
        id: sessionId,
        userId,
        status: 'ACTIVE',
        deviceId: null,
        startedAt: new Date(1_699_999_000_000).toISOString(),
        endedAt: null,
        pointCount: 41 + n,
      },
      points,
    },
    publishedAt: Date.now(),
  };
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

    it('carries a live event with its payload intact; the edge refuses a payload that disagrees with its event', async () => {
      pair = await make();
      const e = pointEvent(LIVE_PAYLOAD_MAX_POINTS);
      const ch = tenantChannel(e.tenantId, 'live');
      const { ready, messages } = await collect(pair.b, ch, 2);
      await ready;
      await pair.a.publish(ch, encodeLiveEvent(e));
      const { payload: _dropped, ...idsOnly } = e;
      await pair.a.publish(ch, encodeLiveEvent(idsOnly));
      const [withPayload, withoutPayload] = (await messages).map(parseLiveEvent);
      expect(withPayload).toEqual(e);
      expect(withoutPayload).toEqual(idsOnly);
      expect(withoutPayload).not.toHaveProperty('payload');

      const tampered = (change: (v: ReturnType<typeof pointEvent>) => void) => {
        const v = structuredClone(e);
        change(v);
        return parseLiveEvent(encodeLiveEvent(v));
      };
      expect(tampered(() => undefined)).toEqual(e);
      // Another owner, another session, other points, reordered points, bad fields, too many points.
      expect(tampered((v) => (v.payload!.session.userId = randomUUID()))).toBeNull();
      expect(tampered((v) => (v.payload!.session.id = randomUUID()))).toBeNull();
      expect(tampered((v) => (v.payload!.points[0]!.id = randomUUID()))).toBeNull();
      expect(tampered((v) => v.payload!.points.reverse())).toBeNull();
      expect(tampered((v) => v.payload!.points.pop())).toBeNull();
      expect(tampered((v) => ((v.payload!.points[1] as { latitude: unknown }).latitude = '1'))).toBeNull();
      expect(tampered((v) => ((v.payload!.points[1] as { receivedAt: unknown }).receivedAt = 'yesterday'))).toBeNull();
      expect(tampered((v) => ((v.payload!.session as { pointCount: unknown }).pointCount = -1))).toBeNull();
      const big = pointEvent(LIVE_PAYLOAD_MAX_POINTS + 1);
      expect(parseLiveEvent(encodeLiveEvent(big))).toBeNull();
    });

    it('tenantChannel refuses a missing or malformed tenant id', () => {
      expect(() => tenantChannel('', 'live')).toThrow(TypeError);
      expect(() => tenantChannel('*', 'live')).toThrow(TypeError);
      expect(() => tenantChannel('a:b', 'live')).toThrow(TypeError);
    });
  });
}
