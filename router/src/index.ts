// Runs the router alone: reads config, starts, stops on SIGTERM. The only router file that does.
import { readFileSync } from 'node:fs';
import { loadConfig } from '@lt/config';
import { createDb, type Db } from '@lt/db';
import { createMemoryIdentityBus, createRedisIdentityBus } from '@lt/identity';
import { createLogger, logFormat } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { createIdentity, type Identity } from './auth/createIdentity';
import { anonymousAuthenticator } from './auth/types';
import { assembleRouter } from './assembleRouter';
import { createRouterOps, type ReadinessCheck } from './ops';
import { createMemoryPubSub, createRedisConnection, createRedisPubSub, createRedisSubscriber } from '@lt/pubsub';
import { routerConfigSpec } from './config';

const config = loadConfig(routerConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'router' },
});

const onRedisError = (err: Error): void => log.debug('redis', { err: err.message });
const redis = config.REDIS_URL ? createRedisConnection(config.REDIS_URL, { onError: onRedisError }) : undefined;
const subscriber = config.REDIS_URL ? createRedisSubscriber(config.REDIS_URL, { onError: onRedisError }) : undefined;
const redisBus = redis
  ? await createRedisIdentityBus({
      redis,
      subscriber: subscriber!,
      onError: (err) => log.warn('identity event', { err }),
    })
  : undefined;
const bus = redisBus ?? createMemoryIdentityBus();

let db: Db | undefined;
let identity: Identity | undefined;
const checks: Record<string, ReadinessCheck> = {};
if (config.COGNITO_USER_POOL_ID) {
  if (!config.COGNITO_CLIENT_ID || !config.DATABASE_URL)
    throw new Error('COGNITO_USER_POOL_ID needs COGNITO_CLIENT_ID and DATABASE_URL');
  db = createDb({ url: config.DATABASE_URL });
  identity = createIdentity({
    db,
    cognito: {
      userPoolId: config.COGNITO_USER_POOL_ID,
      clientId: config.COGNITO_CLIENT_ID,
      ...(config.COGNITO_ENDPOINT ? { endpoint: config.COGNITO_ENDPOINT } : {}),
      ...(config.COGNITO_ISSUER ? { issuer: config.COGNITO_ISSUER } : {}),
    },
    watch: bus,
    ...(redis ? { redis } : {}),
    onFailure: (reason) => ops.metrics.authFailures.inc(reason),
    log: log.child({ component: 'identity' }),
  });
  // The JWKS is loaded now and kept; if the identity provider is down, requests answer
  // SERVICE_UNAVAILABLE until a download succeeds.
  await identity.verifier
    .hydrate()
    .catch((err: unknown) => log.warn('JWKS not loaded at start; retried on demand', { err: (err as Error).message }));
  const d = db;
  const verifier = identity.verifier;
  checks['postgres'] = async () => void (await d.$queryRaw`SELECT 1`);
  checks['cognito'] = () => verifier.probe();
} else {
  log.warn('COGNITO_USER_POOL_ID not set: every caller is anonymous');
}
if (redis) checks['redis'] = async () => void (await redis.ping());
const ops = createRouterOps(checks);
if (identity) ops.watchIdentity(identity);

// Live fan-out: the location subgraph publishes on Redis; without Redis this router process only
// hears its own process (use npm start / startStack for a single-process setup).
const pubsubConn = config.REDIS_URL ? createRedisSubscriber(config.REDIS_URL, { onError: onRedisError }) : undefined;
const pubsub =
  redis && pubsubConn ? createRedisPubSub({ publisher: redis, subscriber: pubsubConn }) : createMemoryPubSub();
if (!redis) log.warn('REDIS_URL not set: subscriptions receive nothing from separately running subgraphs');
const authenticator = identity?.authenticator ?? anonymousAuthenticator;
const subgraphUrls: Record<string, string> = {};
for (const [name, value] of Object.entries({
  auth: config.AUTH_URL,
  tenant: config.TENANT_URL,
  location: config.LOCATION_URL,
  streaming: config.STREAMING_URL,
})) {
  if (value) subgraphUrls[name] = value;
}
const { router } = assembleRouter({
  supergraphSdl: readFileSync(config.SUPERGRAPH_PATH, 'utf8'),
  subgraphUrls,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  authenticator,
  log,
  production: config.NODE_ENV === 'production',
  bodyLimit: config.BODY_LIMIT,
  limits: {
    maxDepth: config.LIMIT_MAX_DEPTH,
    maxAliases: config.LIMIT_MAX_ALIASES,
    maxRootFields: config.LIMIT_MAX_ROOT_FIELDS,
  },
  pubsub,
  identityWatch: bus,
  ops: { ops, checks },
  dashboard: config.MAP_STYLE_URL ? { mapStyleUrl: config.MAP_STYLE_URL } : {},
});
const port = await router.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await router.stop();
  await identity?.stop();
  await redisBus?.close();
  subscriber?.disconnect();
  pubsubConn?.disconnect();
  redis?.disconnect();
  await db?.$disconnect();
}, log);
