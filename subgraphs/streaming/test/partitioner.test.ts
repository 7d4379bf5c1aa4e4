import { describe, expect, it } from 'vitest';
import { randomBytes, randomInt } from 'node:crypto';
import { Partitioners, type PartitionerArgs, type PartitionMetadata } from 'kafkajs';
import { keyHashPartitioner } from '../src/kafka/partitioner';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

/** Random strings: ASCII, multi-byte and astral characters, every length from 0 to 80. */
function randomKey(): string {
  const alphabet = ['a', 'Z', '0', ':', '-', '"', '\\', 'ü', '日', '😀', '\u0001', ' '];
  const n = randomInt(0, 81);
  let s = '';
  for (let i = 0; i < n; i++)
    s += randomInt(0, 3) === 0 ? alphabet[randomInt(0, alphabet.length)] : randomBytes(1).toString('hex')[0];
  return s;
}

describe('keyHashPartitioner', () => {
  it("puts every key on the partition kafkajs's default (Java-compatible) partitioner picks", () => {
    const ours = keyHashPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      `${crypto.randomUUID()}:${crypto.randomUUID()}`,
      ...Array.from({ length: 5_000 }, randomKey),
    ];
    let checked = 0;
    for (const partitions of [1, 3, 12, 64, 1000])
      for (const key of keys) {
        const args: PartitionerArgs = {
          topic: 't',
          partitionMetadata: metadata(partitions),
          message: { key, value: 'v' },
        };
        // Twice: the second answer comes from the memo.
        expect([ours(args), ours(args)]).toEqual([reference(args), reference(args)]);
        checked++;
      }
    expect(checked).toBe(5 * keys.length);
  });

  it('keeps an explicit partition', () => {
    const ours = keyHashPartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(12), message: { key: 'k', value: 'v', partition: 7 } })).toBe(
      7,
    );
  });
});
