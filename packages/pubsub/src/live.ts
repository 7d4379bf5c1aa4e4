/**
 * The live-event contract on each tenant's `live` channel: what the location subgraph publishes
 * after a commit and what router replicas fan out to subscribers. Events carry ids, not payloads:
 * the router re-reads each one through the supergraph as the subscriber (visibility re-checked).
 */
export type LiveEvent =
  | {
      kind: 'location';
      tenantId: string;
      sessionId: string;
      /** Owner of the session (MEMBER subscribers only see their own). */
      userId: string;
      /** Points committed together, oldest first. */
      points: { id: string; recordedAt: string }[];
      /** ms since epoch when the commit was published (delivery latency). */
      publishedAt: number;
    }
  | {
      kind: 'session';
      tenantId: string;
      sessionId: string;
      userId: string;
      type: 'STARTED' | 'ENDED';
      /** ISO-8601. */
      at: string;
      publishedAt: number;
    };

export function encodeLiveEvent(event: LiveEvent): string {
  return JSON.stringify(event);
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Validates a message from the wire (the one gate for everything a channel carries); null if bad. */
export function parseLiveEvent(message: string): LiveEvent | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  if (!str(v['tenantId']) || !str(v['sessionId']) || !str(v['userId']) || typeof v['publishedAt'] !== 'number')
    return null;
  const base = {
    tenantId: v['tenantId'],
    sessionId: v['sessionId'],
    userId: v['userId'],
    publishedAt: v['publishedAt'],
  };
  if (v['kind'] === 'location') {
    const points = v['points'];
    if (!Array.isArray(points) || points.length === 0 || points.length > 1_000) return null;
    if (!points.every((p: unknown) => typeof p === 'object' && p !== null && str((p as { id?: unknown }).id)))
      return null;
    return { kind: 'location', ...base, points: points as { id: string; recordedAt: string }[] };
  }
  if (v['kind'] === 'session' && (v['type'] === 'STARTED' || v['type'] === 'ENDED') && str(v['at'])) {
    return { kind: 'session', ...base, type: v['type'], at: v['at'] };
  }
  return null;
}
