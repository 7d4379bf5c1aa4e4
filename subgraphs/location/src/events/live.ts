import type { Logger } from '@lt/logger';
import { encodeLiveEvent, type LiveEvent } from '@lt/events';
import { tenantChannel, type PubSub } from '@lt/pubsub';

/** Sessions whose lost events are remembered per pub/sub at most (then the oldest is forgotten). */
const MAX_PENDING_GAPS = 10_000;
/** Retry of pending gap announcements while the channel refuses messages, ms. */
const GAP_RETRY_MS = 1_000;

type Gap = Extract<LiveEvent, { kind: 'gap' }>;

/** Lost announcements per session, waiting to be announced as gaps once the pub/sub takes messages. */
interface PendingGaps {
  gaps: Map<string, Gap>;
  timer: NodeJS.Timeout | null;
  flushing: boolean;
}
const pendingByPubSub = new WeakMap<PubSub, PendingGaps>();

function pendingOf(pubsub: PubSub): PendingGaps {
  let p = pendingByPubSub.get(pubsub);
  if (!p) pendingByPubSub.set(pubsub, (p = { gaps: new Map(), timer: null, flushing: false }));
  return p;
}

function remember(pubsub: PubSub, log: Logger, event: LiveEvent): void {
  if (event.kind === 'gap') return;
  const p = pendingOf(pubsub);
  const of = event.kind;
  const key = `${event.tenantId}|${event.sessionId}|${of}`;
  const missed = event.kind === 'location' ? event.points.length : event.kind === 'geofence' ? event.events.length : 1;
  const prior = p.gaps.get(key);
  if (prior) prior.missed += missed;
  else {
    if (p.gaps.size >= MAX_PENDING_GAPS) {
      const oldest = p.gaps.keys().next().value as string;
      p.gaps.delete(oldest);
      log.error('live gap forgotten: too many sessions with lost announcements', { kept: MAX_PENDING_GAPS });
    }
    const { tenantId, sessionId, userId } = event;
    p.gaps.set(key, { kind: 'gap', tenantId, sessionId, userId, of, missed, publishedAt: 0 });
  }
  schedule(pubsub, log, p);
}

function schedule(pubsub: PubSub, log: Logger, p: PendingGaps): void {
  if (p.timer || p.gaps.size === 0) return;
  p.timer = setTimeout(() => {
    p.timer = null;
    void flushGaps(pubsub, log);
  }, GAP_RETRY_MS);
  p.timer.unref();
}

/** Announces remembered gaps (oldest first); what fails stays for the next attempt. */
async function flushGaps(pubsub: PubSub, log: Logger): Promise<void> {
  const p = pendingByPubSub.get(pubsub);
  if (!p || p.flushing || p.gaps.size === 0) return;
  p.flushing = true;
  try {
    for (const [key, gap] of [...p.gaps]) {
      try {
        await pubsub.publish(tenantChannel(gap.tenantId, 'live'), encodeLiveEvent({ ...gap, publishedAt: Date.now() }));
        p.gaps.delete(key);
      } catch {
        break;
      }
    }
  } finally {
    p.flushing = false;
    schedule(pubsub, log, p);
  }
}

/**
 * Announces committed changes on the tenant's live channel so every router replica can fan them
 * out. Called after the transaction commits; best effort (the outbox is the durable record), so a
 * pub/sub failure is logged, never turned into a failed mutation. A lost announcement is not
 * silent for subscribers: it is remembered per session and announced as a `gap` event (the router
 * turns it into a LIVE_EVENTS_MISSED marker) as soon as the channel takes messages again.
 */
export async function publishLive(pubsub: PubSub | undefined, log: Logger, event: LiveEvent): Promise<void> {
  if (!pubsub) return;
  try {
    await pubsub.publish(tenantChannel(event.tenantId, 'live'), encodeLiveEvent(event));
  } catch (err) {
    log.warn('live publish failed', { err, tenantId: event.tenantId, kind: event.kind });
    remember(pubsub, log, event);
    return;
  }
  if (pendingByPubSub.get(pubsub)?.gaps.size) void flushGaps(pubsub, log);
}

/** Live publishes since start: sent, and lost (pub/sub down: the subscribers missed the event). */
export interface LiveStats {
  published: number;
  lost: number;
}

export interface LivePublisher {
  /**
   * Announces committed changes on the tenant's live channel so every router replica can fan them
   * out. Called after the transaction commits and never awaited by the mutation: the answer of a
   * committed write does not depend on pub/sub (the outbox is the durable record). A failure is
   * counted, logged, remembered as a gap for
   * its session's subscribers (see `publishLive`) and handed to `onLost`.
   */
  announce(event: LiveEvent, log: Logger): void;
  readonly stats: LiveStats;
}

export function createLivePublisher(
  pubsub: PubSub | undefined,
  /** Told about every event the live channel lost (e.g. to tell its subscribers to resync). */
  onLost?: (event: LiveEvent, err: unknown) => void,
): LivePublisher {
  const stats: LiveStats = { published: 0, lost: 0 };
  return {
    stats,
    announce(event, log) {
      if (!pubsub) return;
      void pubsub.publish(tenantChannel(event.tenantId, 'live'), encodeLiveEvent(event)).then(
        () => {
          stats.published++;
          if (pendingByPubSub.get(pubsub)?.gaps.size) void flushGaps(pubsub, log);
        },
        (err: unknown) => {
          stats.lost++;
          log.warn('live publish failed', {
            err: { name: (err as Error)?.name, message: (err as Error)?.message },
            tenantId: event.tenantId,
            sessionId: event.sessionId,
            kind: event.kind,
            lost: stats.lost,
          });
          remember(pubsub, log, event);
          try {
            onLost?.(event, err);
          } catch (e) {
            log.error('live loss hook failed', { err: e });
          }
        },
      );
    },
  };
}
