// Runs the router alone: reads config, starts, stops on SIGTERM. The only router file that does.
import { readFileSync } from 'node:fs';
import { loadConfig } from '@lt/config';
import { createDb } from '@lt/db';
import { createLogger, logFormat } from '@lt/logger';
import { createMemoryPubSub, createRedisConnection, createRedisPubSub, createRedisSubscriber } from '@lt/pubsub';
import { runUntilSignal } from '@lt/server';
import { routerConfigSpec } from './config';
import { createRouterApp } from './createRouterApp';

const config = loadConfig(routerConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'router' },
});

const onRedisError = (err: Error): void => log.debug('redis', { err: err.message });
const redis = config.REDIS_URL ? createRedisConnection(config.REDIS_URL, { onError: onRedisError }) : undefined;
// Live fan-out: the location subgraph publishes on Redis; without Redis this router process only
// hears its own process (use npm start / startStack for a single-process setup).
const pubsubConn = config.REDIS_URL ? createRedisSubscriber(config.REDIS_URL, { onError: onRedisError }) : undefined;
const pubsub =
  redis && pubsubConn ? createRedisPubSub({ publisher: redis, subscriber: pubsubConn }) : createMemoryPubSub();
if (!redis) log.warn('REDIS_URL not set: subscriptions receive nothing from separately running subgraphs');

if (config.COGNITO_USER_POOL_ID && (!config.COGNITO_CLIENT_ID || !config.DATABASE_URL))
  throw new Error('COGNITO_USER_POOL_ID needs COGNITO_CLIENT_ID and DATABASE_URL');
if (!config.COGNITO_USER_POOL_ID) log.warn('COGNITO_USER_POOL_ID not set: every caller is anonymous');
const db = config.COGNITO_USER_POOL_ID && config.DATABASE_URL ? createDb({ url: config.DATABASE_URL }) : undefined;

const subgraphUrls: Record<string, string> = {};
for (const [name, value] of Object.entries({
  auth: config.AUTH_URL,
  tenant: config.TENANT_URL,
  location: config.LOCATION_URL,
  streaming: config.STREAMING_URL,
})) {
  if (value) subgraphUrls[name] = value;
}
const app = await createRouterApp({
  supergraphSdl: readFileSync(config.SUPERGRAPH_PATH, 'utf8'),
  subgraphUrls,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  log,
  production: config.NODE_ENV === 'production',
  bodyLimit: config.BODY_LIMIT,
  limits: {
    maxDepth: config.LIMIT_MAX_DEPTH,
    maxAliases: config.LIMIT_MAX_ALIASES,
    maxRootFields: config.LIMIT_MAX_ROOT_FIELDS,
  },
  pubsub,
  ...(redis ? { redis } : {}),
  ...(db && config.COGNITO_USER_POOL_ID && config.COGNITO_CLIENT_ID
    ? {
        db,
        cognito: {
          userPoolId: config.COGNITO_USER_POOL_ID,
          clientId: config.COGNITO_CLIENT_ID,
          ...(config.COGNITO_ENDPOINT ? { endpoint: config.COGNITO_ENDPOINT } : {}),
          ...(config.COGNITO_ISSUER ? { issuer: config.COGNITO_ISSUER } : {}),
        },
      }
    : {}),
  dashboard: config.MAP_STYLE_URL ? { mapStyleUrl: config.MAP_STYLE_URL } : {},
});
const port = await app.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await app.stop();
  pubsubConn?.disconnect();
  redis?.disconnect();
  await db?.$disconnect();
}, log);
