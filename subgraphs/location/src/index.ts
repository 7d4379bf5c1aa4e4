// Runs the location subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { closeRawPool, createDb } from '@lt/db';
import { createLogger, logFormat } from '@lt/logger';
import { createRedisConnection, createRedisPubSub, createRedisSubscriber } from '@lt/pubsub';
import { runUntilSignal } from '@lt/server';
import { createLocationSubgraph } from './createLocationSubgraph';
import { locationConfigSpec } from './config';
import { startRetentionJob } from './fleet/retention';

const config = loadConfig(locationConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'location' },
});
const db = createDb({ url: config.DATABASE_URL });
// Routers subscribe on the same Redis; a subscriber connection is only needed by listeners.
const onError = (err: Error): void => log.debug('redis', { err: err.message });
const redis = config.REDIS_URL ? createRedisConnection(config.REDIS_URL, { onError }) : null;
const pubsub =
  redis && config.REDIS_URL
    ? createRedisPubSub({
        publisher: redis,
        subscriber: createRedisSubscriber(config.REDIS_URL, { onError, lazyConnect: true }),
      })
    : undefined;
const server = createLocationSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  maxGeofencesPerTenant: config.GEOFENCES_MAX_PER_TENANT,
  ...(pubsub ? { pubsub } : {}),
  fleet: {
    offlineAfterSeconds: config.DEVICE_OFFLINE_AFTER_SECONDS,
    stopMinSeconds: config.STOP_MIN_SECONDS,
    stopRadiusMeters: config.STOP_RADIUS_METERS,
  },
});
const retention = startRetentionJob(db, {
  maxDays: config.POINT_RETENTION_MAX_DAYS,
  intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
  runAtStart: true,
  log,
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await retention.stop();
  await server.stop();
  await pubsub?.close();
  redis?.disconnect();
  await db.$disconnect();
  await closeRawPool(db);
}, log);
