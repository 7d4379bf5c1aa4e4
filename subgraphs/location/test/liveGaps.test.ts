/**
 * A live announcement lost after a commit (pub/sub down) is announced as a `gap` event for its
 * session once the channel takes messages again: the router turns it into a LIVE_EVENTS_MISSED
 * marker for that session's subscribers.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@lt/logger';
import { parseLiveEvent, type LiveEvent } from '@lt/events';
import { createMemoryPubSub, tenantChannel, type PubSub } from '@lt/pubsub';
import { waitFor } from '@lt/testing';
import { publishLive } from '../src/events/live';

describe('lost live publishes', () => {
  it('are announced as one gap per session when the pub/sub recovers', async () => {
    const tenantId = randomUUID();
    const sessionId = randomUUID();
    const userId = randomUUID();
    const base = createMemoryPubSub();
    let down = true;
    const pubsub: PubSub = {
      ...base,
      publish: async (c, m) => {
        if (down) throw new Error('connection refused');
        await base.publish(c, m);
      },
    };
    const got: LiveEvent[] = [];
    await base.subscribe(tenantChannel(tenantId, 'live'), (m) => got.push(parseLiveEvent(m)!));
    const log = createLogger({ level: 'silent' });
    const points = (n: number) =>
      Array.from({ length: n }, () => ({ id: randomUUID(), recordedAt: new Date().toISOString() }));
    const loc = (n: number): LiveEvent => ({
      kind: 'location',
      tenantId,
      sessionId,
      userId,
      points: points(n),
      publishedAt: 1,
    });

    // Never throws (the write committed): both announcements are lost while the pub/sub is down.
    await publishLive(pubsub, log, loc(1_000));
    await publishLive(pubsub, log, loc(5));
    await publishLive(pubsub, log, {
      kind: 'session',
      tenantId,
      sessionId,
      userId,
      type: 'ENDED',
      at: new Date().toISOString(),
      publishedAt: 1,
    });
    expect(got).toEqual([]);

    down = false;
    // Retried on its own (no further write needed).
    await waitFor(() => got.length >= 2, { what: 'gap events', timeoutMs: 5_000 });
    expect(got).toEqual([
      expect.objectContaining({ kind: 'gap', of: 'location', tenantId, sessionId, userId, missed: 1_005 }),
      expect.objectContaining({ kind: 'gap', of: 'session', tenantId, sessionId, userId, missed: 1 }),
    ]);
    // Announced once.
    await publishLive(pubsub, log, loc(2));
    await waitFor(() => got.length >= 3, { what: 'the next event' });
    expect(got.map((e) => e.kind)).toEqual(['gap', 'gap', 'location']);
  });
});
