import { isUuid } from '@lt/context';
import { withTenant, type Db, type Tx } from '@lt/db';
import { appendOutbox } from '@lt/events';
import { sessionEvent } from '../events/outbox';
import { type Scope } from './scope';
import { touchDeviceOnStart } from '../fleet/state';
import { pointSelect, type PointRow } from './points';

export interface SessionRow {
  id: string;
  tenantId: string;
  userId: string;
  deviceId: string | null;
  status: 'ACTIVE' | 'ENDED';
  startedAt: Date;
  endedAt: Date | null;
  pointCount: number;
  lastPointId: string | null;
  /** Loaded with the session (one primary-key lookup), so `lastPoint` never needs another trip. */
  lastPoint?: PointRow | null;
}

/** Attaches each session's last point (one query for the whole list). */
async function withLastPoints(tx: Tx, sessions: SessionRow[]): Promise<SessionRow[]> {
  const ids = sessions.map((s) => s.lastPointId).filter((id): id is string => id !== null);
  const points = ids.length ? await tx.locationPoint.findMany({ where: { id: { in: ids } }, select: pointSelect }) : [];
  const byId = new Map(points.map((p) => [p.id, p]));
  return sessions.map((s) => ({ ...s, lastPoint: s.lastPointId ? (byId.get(s.lastPointId) ?? null) : null }));
}

/** The session if it is in the caller's scope (RLS: tenant; here: MEMBERs own sessions), else null. */
export async function findSession(tx: Tx, scope: Scope, id: string): Promise<SessionRow | null> {
  if (!isUuid(id)) return null;
  const row = await tx.locationSession.findFirst({
    where: { id, ...(scope.ownOnly ? { userId: scope.userId } : {}) },
  });
  if (!row) return null;
  const [s] = await withLastPoints(tx, [row as SessionRow]);
  return s ?? null;
}

/** Sessions by id in the caller's scope (with their last points); others are left out. */
export async function findSessions(tx: Tx, scope: Scope, ids: string[]): Promise<SessionRow[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  const rows = await tx.locationSession.findMany({
    where: { id: { in: valid }, ...(scope.ownOnly ? { userId: scope.userId } : {}) },
  });
  return withLastPoints(tx, rows as SessionRow[]);
}

export async function getSession(db: Db, scope: Scope, id: string): Promise<SessionRow | null> {
  return withTenant(db, scope.tenantId, (tx) => findSession(tx, scope, id));
}

export interface ListSessionsArgs {
  status?: 'ACTIVE' | 'ENDED' | null;
  userId?: string | null;
  first: number;
  /** Decoded cursor: [startedAt ISO, id]. */
  after?: [string, string] | null;
}

/** Newest first, keyset-paginated on (startedAt, id) (index led by tenant_id). Fetches first + 1. */
export async function listSessions(db: Db, scope: Scope, args: ListSessionsArgs): Promise<SessionRow[]> {
  if (args.userId && !isUuid(args.userId)) return [];
  if (scope.ownOnly && args.userId && args.userId !== scope.userId) return [];
  const userId = scope.ownOnly ? scope.userId : (args.userId ?? undefined);
  return withTenant(db, scope.tenantId, async (tx) => {
    const after = args.after;
    const rows = await tx.locationSession.findMany({
      where: {
        ...(userId ? { userId } : {}),
        ...(args.status ? { status: args.status } : {}),
        ...(after
          ? {
              OR: [{ startedAt: { lt: new Date(after[0]) } }, { startedAt: new Date(after[0]), id: { lt: after[1] } }],
            }
          : {}),
      },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: args.first + 1,
    });
    return withLastPoints(tx, rows as SessionRow[]);
  });
}

/** Starts a session for the caller and writes `session.started.v1` in the same transaction. */
export async function startSession(db: Db, scope: Scope, deviceId: string | null, now: Date): Promise<SessionRow> {
  return withTenant(db, scope.tenantId, async (tx) => {
    const row = (await tx.locationSession.create({
      data: { tenantId: scope.tenantId, userId: scope.userId, deviceId, startedAt: now },
    })) as SessionRow;
    await appendOutbox(tx, [sessionEvent('session.started.v1', row, now)]);
    await touchDeviceOnStart(tx, row);
    return { ...row, lastPoint: null };
  });
}

/**
 * Ends a session (idempotent: an already ENDED session is returned unchanged, without a second
 * event). Returns null when the session is not in the caller's scope.
 */
export async function stopSession(
  db: Db,
  scope: Scope,
  id: string,
  now: Date,
): Promise<{ session: SessionRow; ended: boolean } | null> {
  return withTenant(db, scope.tenantId, async (tx) => {
    const found = await findSession(tx, scope, id);
    if (!found) return null;
    // Conditional update: of two concurrent stops exactly one ends the session and emits the event.
    const { count } = await tx.locationSession.updateMany({
      where: { id, status: 'ACTIVE' },
      data: { status: 'ENDED', endedAt: now },
    });
    if (count === 0) {
      const current = (await findSession(tx, scope, id))!;
      return { session: current, ended: false };
    }
    const session: SessionRow = { ...found, status: 'ENDED', endedAt: now };
    await appendOutbox(tx, [sessionEvent('session.ended.v1', session, now)]);
    return { session, ended: true };
  });
}
