// Runs the location subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { commonConfig, int, loadConfig, str, url } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger } from '@lt/logger';
import { createRedisPubSub } from '@lt/pubsub';
import { runUntilSignal } from '@lt/server';
import { Redis } from 'ioredis';
import { createLocationSubgraph } from './createLocationSubgraph';

const config = loadConfig(
  {
    ...commonConfig,
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      description: 'services role (lt_app) connection string',
    }),
    REDIS_URL: {
      ...url({
        protocols: ['redis', 'rediss'],
        description: 'live pub/sub for router fan-out (no live events without it)',
      }),
      optional: true as const,
    },
    PORT: int({ default: 4003, min: 0, max: 65535, description: 'location subgraph port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'location' } });
const db = createDb({ url: config.DATABASE_URL });
// Routers subscribe on the same Redis; a subscriber connection is only needed by listeners.
const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 2_000 }) : null;
const pubsub = redis
  ? createRedisPubSub({ publisher: redis, subscriber: redis.duplicate({ lazyConnect: true }) })
  : undefined;
const server = createLocationSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  ...(pubsub ? { pubsub } : {}),
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await server.stop();
  await pubsub?.close();
  redis?.disconnect();
  await db.$disconnect();
}, log);
