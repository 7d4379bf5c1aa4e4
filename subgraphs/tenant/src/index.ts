// Runs the tenant subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { createDb } from '@lt/db';
import { createRedisIdentityBus } from '@lt/identity';
import { createLogger, logFormat } from '@lt/logger';
import { createRedisConnection } from '@lt/pubsub';
import { runUntilSignal } from '@lt/server';
import { createTenantSubgraph } from './createTenantSubgraph';
import { tenantConfigSpec } from './config';

const config = loadConfig(tenantConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'tenant' },
});
const db = createDb({ url: config.DATABASE_URL });
// Publish-only: a separate process from the routers, so the in-memory bus would reach nobody.
const redis = createRedisConnection(config.REDIS_URL, { onError: (err) => log.debug('redis', { err: err.message }) });
const identity = await createRedisIdentityBus({ redis, onError: (err) => log.warn('identity bus', { err }) });
const server = createTenantSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  identity,
  maxRetentionDays: config.POINT_RETENTION_MAX_DAYS,
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await server.stop();
  await identity.close();
  redis.disconnect();
  await db.$disconnect();
}, log);
