import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, which kafkajs's default partitioner ports with
 * 64-bit Long arithmetic) in 32-bit integer arithmetic: every step of the hash only keeps the low
 * 32 bits, so `Math.imul` gives the same result without allocating.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Distinct keys whose hash is remembered at most (then the memo starts over). */
const MEMO_MAX = 100_000;

/**
 * kafkajs's default partitioner (Java-compatible: a key goes to `toPositive(murmur2(key)) %
 * partitions`, as with every other producer of these topics, so a key keeps its partition and its
 * order across versions), with the hash in 32-bit arithmetic and memoised per key: keys repeat
 * (a session's points share one). Messages with an explicit partition or a non-string key go to
 * kafkajs's own partitioner.
 */
export const keyHashPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  const memo = new Map<string, number>();
  return (args) => {
    const { message, partitionMetadata } = args;
    const key = message.key;
    if ((message.partition !== null && message.partition !== undefined) || typeof key !== 'string')
      return fallback(args);
    let h = memo.get(key);
    if (h === undefined) {
      h = murmur2(Buffer.from(key)) & 0x7fffffff;
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(key, h);
    }
    return h % partitionMetadata.length;
  };
};
