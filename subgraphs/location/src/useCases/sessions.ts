import type { Logger } from '@lt/logger';
import type { Scope } from '../data/scope';
import { startSession as insertSession, stopSession as endStoredSession, type SessionRow } from '../data/sessions';
import type { RecordingDeps } from '../deps';
import { sessionLiveEvent } from '../events/liveEvents';

/** Starts a session of the caller (`deviceId` already validated) and announces it after commit. */
export async function startSession(
  d: RecordingDeps,
  scope: Scope,
  deviceId: string | null,
  log: Logger,
): Promise<SessionRow> {
  const at = d.now();
  const session = await insertSession(d.db, scope, deviceId, at);
  d.live.announce(sessionLiveEvent(session, 'STARTED', at), log);
  return session;
}

/**
 * Ends a session in scope (null: none visible); announced only when this call ended it (stopping
 * an ended session answers it unchanged).
 */
export async function endSession(d: RecordingDeps, scope: Scope, id: string, log: Logger): Promise<SessionRow | null> {
  const at = d.now();
  const r = await endStoredSession(d.db, scope, id, at);
  if (!r) return null;
  if (r.ended) d.live.announce(sessionLiveEvent(r.session, 'ENDED', at), log);
  return r.session;
}
