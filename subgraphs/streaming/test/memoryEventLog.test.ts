import { describe, expect, it } from 'vitest';
import { waitFor } from '@lt/testing';
import { createMemoryEventLog } from '../src/eventLog';

// What only the memory log has (its shared behaviour is in eventLog.contract.int.test.ts).
describe('memory event log', () => {
  it('keeps a bounded number of messages per partition; a group behind them resumes at the oldest kept', async () => {
    const log = createMemoryEventLog({ retainPerPartition: 5 });
    await log.ensureTopics(['t'], 1);
    const producer = log.producer();
    await producer.send(
      't',
      Array.from({ length: 8 }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    expect(await log.status('fresh', ['t'])).toEqual({ reachable: true, lag: [{ topic: 't', lag: 5 }] });

    const seen: { value: string; offset: string }[] = [];
    const c = await log.consume({ groupId: 'g', topics: ['t'], eachMessage: async (m) => void seen.push(m) });
    await waitFor(() => seen.length === 5, { what: 'the 5 retained' });
    expect(seen.map((m) => [m.value, m.offset])).toEqual([3, 4, 5, 6, 7].map((i) => [String(i), String(i)]));
    await c.stop();

    // While the group is away, retention drops messages it never read: it continues at the oldest kept.
    await producer.send(
      't',
      Array.from({ length: 7 }, (_, i) => ({ key: 'k', value: String(8 + i) })),
    );
    const later: string[] = [];
    const d = await log.consume({ groupId: 'g', topics: ['t'], eachMessage: async (m) => void later.push(m.value) });
    await waitFor(() => later.length === 5, { what: 'the 5 retained after the gap' });
    expect(later).toEqual(['10', '11', '12', '13', '14']);
    await d.stop();
    await log.stop();
  });

  it("hands a leaving member's partitions to the others, who continue at its committed offsets", async () => {
    const log = createMemoryEventLog();
    await log.ensureTopics(['t'], 3);
    const handled: string[] = [];
    const consume = () =>
      log.consume({ groupId: 'g', topics: ['t'], eachMessage: async (m) => void handled.push(m.value) });
    const [a, b] = [await consume(), await consume()];
    expect([...(a.assignment()['t'] ?? []), ...(b.assignment()['t'] ?? [])].sort()).toEqual([0, 1, 2]);
    const producer = log.producer();
    await producer.send(
      't',
      Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    );
    await waitFor(() => handled.length === 30, { what: '30 handled' });
    await a.stop();
    expect(b.assignment()).toEqual({ t: [0, 1, 2] });
    await producer.send(
      't',
      Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: String(30 + i) })),
    );
    await waitFor(() => handled.length === 60, { what: '60 handled' });
    expect([...handled].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
    await log.stop();
  });
});
