import { Redis } from 'ioredis';
import { testEnv } from '@lt/testing';
import { createRedisPubSub } from '../src/redis';
import { pubSubContract } from './contract';

// Two independent connection pairs: the view of two processes (router replicas) on one Redis.
pubSubContract('redis', async () => {
  const url = testEnv().redisUrl;
  const conns = [0, 1, 2, 3].map(() => new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 }));
  const [p1, s1, p2, s2] = conns as [Redis, Redis, Redis, Redis];
  const a = createRedisPubSub({ publisher: p1, subscriber: s1 });
  const b = createRedisPubSub({ publisher: p2, subscriber: s2 });
  return {
    a,
    b,
    async stop() {
      await a.close();
      await b.close();
      await Promise.all(conns.map((c) => c.quit()));
    },
  };
});
