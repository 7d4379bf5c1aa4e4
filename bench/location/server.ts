// The stack under benchmark, in its own process (so client load and server memory are separate).
// Started by location.bench.ts; prints {"routerUrl"} once ready; answers "mem" on stdin with its
// memory (after a GC), CPU time and the subscription engine's stats; stops on "stop" or SIGTERM.
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createLogger } from '@lt/logger';
import { createRedisPubSub } from '@lt/pubsub';
import { startStack } from '@lt/app';

const env = process.env;
const redis = new Redis(env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const sub = new Redis(env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const stack = await startStack({
  databaseUrl: env['DATABASE_URL']!,
  contextSecret: 'bench-only-context-secret-0123456789abcdef',
  log: createLogger({ level: 'error' }),
  auth: {
    cognito: {
      endpoint: env['COGNITO_ENDPOINT'] ?? 'http://127.0.0.1:9229',
      userPoolId: env['COGNITO_USER_POOL_ID'] ?? 'local_supergraph',
      clientId: env['COGNITO_CLIENT_ID'] ?? 'supergraphlocalclient',
    },
    redis,
  },
  // Real mode: live events go through Redis pub/sub, as with several replicas.
  pubsub: createRedisPubSub({ publisher: redis, subscriber: sub }),
});
process.stdout.write(`${JSON.stringify({ routerUrl: stack.routerUrl })}\n`);

const stop = async (): Promise<void> => {
  await stack.stop();
  redis.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') void stop();
  if (line === 'mem') {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const stats = stack.subscriptions()?.stats();
    // cpu: the whole stack (router + subgraphs) runs on this one thread: user+system µs so far.
    const c = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({ mem: { rss: m.rss, heapUsed: m.heapUsed, external: m.external }, cpu: c.user + c.system, stats })}\n`,
    );
  }
});
