/** The snapshot gate of `locationUpdated(includeLatest: true)`: holds live results, then snapshot first, deduped. */
import { describe, expect, it } from 'vitest';
import { SnapshotGate } from '../src/subscriptions/snapshot';

describe('SnapshotGate', () => {
  it('holds live results until opened, then sends the snapshot first and the held results minus its points', () => {
    const sent: string[][] = [];
    const gate = new SnapshotGate((r) => (sent.push([...r]), true), 1_000);
    expect(gate.send(['live-p2', 'live-p3'], ['p2', 'p3'])).toBe(true);
    expect(gate.send(['live-q1'], ['q1'])).toBe(true);
    expect(sent).toEqual([]);
    // p2 was committed before the snapshot was read: it is in the snapshot and not repeated.
    expect(gate.open(['snap-p2', 'snap-r9'], new Set(['p2', 'r9']))).toBe(true);
    expect(sent).toEqual([['snap-p2', 'snap-r9', 'live-p3', 'live-q1']]);
    // Open: results go straight through.
    gate.send(['live-p4'], ['p4']);
    expect(sent.at(-1)).toEqual(['live-p4']);
  });

  it('results without matching ids are never dropped; past the byte limit the consumer is too slow', () => {
    const sent: string[][] = [];
    const gate = new SnapshotGate((r) => (sent.push([...r]), true), 10);
    expect(gate.send(['gap'], null)).toBe(true);
    expect(gate.send(['a', 'b'], ['p1'])).toBe(true);
    gate.open(['snap'], new Set(['p1']));
    expect(sent).toEqual([['snap', 'gap', 'a', 'b']]);
    const small = new SnapshotGate(() => true, 10);
    expect(small.send(['0123456789x'], null)).toBe(false);
  });

  it('one session: held points up to the snapshot point are older than it and are not sent after it', () => {
    const sent: string[][] = [];
    const gate = new SnapshotGate((r) => (sent.push([...r]), true), 1_000);
    // Commit order of the session's points while the snapshot was read: p8, p9, p10 (the snapshot), p11.
    gate.send(['live-p8', 'live-p9'], ['p8', 'p9']);
    gate.send(['live-p10', 'live-p11'], ['p10', 'p11']);
    gate.open(['snap-p10'], new Set(['p10']), true);
    expect(sent).toEqual([['snap-p10', 'live-p11']]);
    // The snapshot point committed before the subscriber joined: everything held is newer.
    const later: string[][] = [];
    const g2 = new SnapshotGate((r) => (later.push([...r]), true), 1_000);
    g2.send(['live-p11'], ['p11']);
    g2.open(['snap-p10'], new Set(['p10']), true);
    expect(later).toEqual([['snap-p10', 'live-p11']]);
  });

  it("a snapshot point's live event arriving after the gate opened is dropped once", () => {
    const sent: string[][] = [];
    const gate = new SnapshotGate((r) => (sent.push([...r]), true), 1_000);
    gate.open(['snap-p1'], new Set(['p1']), true);
    gate.send(['live-p1', 'live-p2'], ['p1', 'p2']);
    gate.send(['live-p1-again'], ['p1']);
    expect(sent).toEqual([['snap-p1'], ['live-p2'], ['live-p1-again']]);
  });
});
