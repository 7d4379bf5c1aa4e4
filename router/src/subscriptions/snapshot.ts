/**
 * `locationUpdated(includeLatest: true)`: the latest point of each matching ACTIVE session first,
 * then live updates, none missed in between. The subscriber joins its live group first; while the
 * snapshot is read, the group's results for it are held here; then the snapshot goes out, followed
 * by the held results minus the points the snapshot already carried (dedupe by point id) and, for
 * a one-session subscription, minus the held points older than the snapshot's.
 */
import { randomUUID } from 'node:crypto';
import { parse, type FormattedExecutionResult } from 'graphql';
import type { RouterInternals } from '../createRouter';
import { gapMarker, type Subscriber } from './fanout';
import { eventVariables } from './operation';

/** Points re-read per gateway execution (the subgraph's `liveLocationUpdates` limit). */
const CHUNK = 500;

const LATEST = parse('query LiveSnapshot($sessionId: ID) { liveLatestLocationPointIds(sessionId: $sessionId) }');

/** Results of one subscriber held while its snapshot is read. */
export class SnapshotGate {
  private held: { results: readonly string[]; ids: readonly string[] | null }[] | null = [];
  private bytes = 0;
  /** Snapshot point ids whose live event has not come yet (dropped when it does). */
  private pending = new Set<string>();

  /** `results` minus snapshot points arriving after the gate opened. */
  private unseen(results: readonly string[], ids?: readonly string[] | null): readonly string[] {
    if (this.pending.size === 0 || !ids || ids.length !== results.length) return results;
    const out: string[] = [];
    results.forEach((r, i) => {
      if (this.pending.delete(ids[i]!)) return;
      out.push(r);
    });
    return out;
  }

  constructor(
    private readonly direct: (results: readonly string[]) => boolean,
    private readonly maxBytes: number,
  ) {}

  /** Subscriber.send while the gate is closed: holds (false past `maxBytes`: a slow consumer). */
  send = (results: readonly string[], ids?: readonly string[] | null): boolean => {
    if (this.held === null) {
      const rest = this.unseen(results, ids);
      return rest.length === 0 || this.direct(rest);
    }
    this.held.push({ results, ids: ids && ids.length === results.length ? ids : null });
    for (const r of results) this.bytes += r.length;
    return this.bytes <= this.maxBytes;
  };

  /**
   * Sends `first` (the snapshot, or a gap marker), then what was held minus `seen` ids; opens the
   * gate. With `oneSession` (a subscription to one session), held points up to the snapshot's own
   * point are dropped too: they arrived in commit order, so they are older than the snapshot, and a
   * dashboard must not move back to them after showing the latest.
   */
  open(first: readonly string[], seen: ReadonlySet<string>, oneSession = false): boolean {
    const held = (this.held ?? []).flatMap((h) => h.results.map((r, i) => ({ r, id: h.ids ? h.ids[i]! : null })));
    this.held = null;
    // A snapshot point's own live event can still be on its way (published after its commit, read
    // before it arrived): it is dropped when it comes, once per snapshot point.
    this.pending = new Set(seen);
    for (const h of held) if (h.id !== null) this.pending.delete(h.id);
    let from = 0;
    if (oneSession)
      for (let i = 0; i < held.length; i++) if (held[i]!.id !== null && seen.has(held[i]!.id!)) from = i + 1;
    const out = [...first];
    for (const h of held.slice(from)) if (h.id === null || !seen.has(h.id)) out.push(h.r);
    return out.length === 0 || this.direct(out);
  }
}

/** Item payloads of a `liveLocationUpdates` result, serialised as the fan-out does (one per point). */
function payloads(r: FormattedExecutionResult): string[] {
  if (!r.data) return [];
  const [key, value] = Object.entries(r.data)[0] ?? [];
  if (key === undefined || !Array.isArray(value)) return [];
  const errors = r.errors ? `,"errors":${JSON.stringify(r.errors)}` : '';
  return value.map((item) => `{"data":${JSON.stringify({ [key]: item })}${errors}}`);
}

/**
 * Reads the snapshot as the subscriber (ids of the latest points, then those points through the
 * subscription's own re-read, so federated fields resolve as live ones do) and opens the gate.
 * A failed read sends a gap marker in its place: the client re-reads, nothing is lost in silence.
 */
export async function sendSnapshot(
  execute: RouterInternals['execute'],
  s: Subscriber,
  gate: SnapshotGate,
  onOverflow: () => void,
): Promise<void> {
  const caller = () => ({ ...s.caller, requestId: randomUUID() });
  let first: string[] = [];
  const seen = new Set<string>();
  try {
    const latest = await execute(caller(), LATEST, { sessionId: s.op.sessionId });
    const ids = (latest.data as { liveLatestLocationPointIds?: string[] } | null | undefined)
      ?.liveLatestLocationPointIds;
    if (!ids) throw new Error(`snapshot ids: ${latest.errors?.[0]?.extensions?.['code'] ?? 'no data'}`);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const r = await execute(caller(), s.op.refetch, eventVariables(s.op, { pointIds: chunk }));
      if (!r.data || r.errors?.length) throw new Error(`snapshot read: ${r.errors?.[0]?.extensions?.['code']}`);
      first.push(...payloads(r));
      for (const id of chunk) seen.add(id);
    }
  } catch {
    first = [gapMarker(null, s.op.sessionId ? [s.op.sessionId] : null)];
    seen.clear();
  }
  if (!gate.open(first, seen, s.op.sessionId !== null)) onOverflow();
}
