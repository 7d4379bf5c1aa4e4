// Runs the tenant subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { Redis } from 'ioredis';
import { commonConfig, int, loadConfig, str, url } from '@lt/config';
import { createDb } from '@lt/db';
import { createRedisIdentityBus } from '@lt/identity';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createTenantSubgraph } from './createTenantSubgraph';

const config = loadConfig(
  {
    ...commonConfig,
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      description: 'services role (lt_app) connection string',
    }),
    REDIS_URL: url({
      protocols: ['redis', 'rediss'],
      description: 'Redis the routers listen on for identity changes (tenant suspension)',
    }),
    PORT: int({ default: 4002, min: 0, max: 65535, description: 'tenant subgraph port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'tenant' } });
const db = createDb({ url: config.DATABASE_URL });
// Publish-only: a separate process from the routers, so the in-memory bus would reach nobody.
const redis = new Redis(config.REDIS_URL, { connectTimeout: 5_000, commandTimeout: 2_000, maxRetriesPerRequest: 2 });
const identity = await createRedisIdentityBus({ redis, onError: (err) => log.warn('identity bus', { err }) });
const server = createTenantSubgraph({ db, log, contextSecret: config.ROUTER_CONTEXT_SECRET, identity });
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await server.stop();
  await identity.close();
  redis.disconnect();
  await db.$disconnect();
}, log);
