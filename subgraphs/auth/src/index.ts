// Runs the auth subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { loadConfig } from '@lt/config';
import { createDb } from '@lt/db';
import { createMemoryIdentityBus, createRedisIdentityBus } from '@lt/identity';
import { createLogger, logFormat } from '@lt/logger';
import { createRedisConnection } from '@lt/pubsub';
import { runUntilSignal } from '@lt/server';
import { bootstrapPlatformAdmin } from './useCases/bootstrapPlatformAdmin';
import { Cognito } from './cognito';
import { createAuthSubgraph } from './createAuthSubgraph';
import { authConfigSpec } from './config';

const config = loadConfig(authConfigSpec, process.env);
const log = createLogger({
  level: config.LOG_LEVEL,
  format: logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production'),
  bindings: { service: 'auth' },
});
const db = createDb({ url: config.DATABASE_URL });
const redis = config.REDIS_URL
  ? createRedisConnection(config.REDIS_URL, { onError: (err) => log.debug('redis', { err: err.message }) })
  : undefined;
// Publish-only: the auth subgraph announces, routers listen.
const identity = redis ? await createRedisIdentityBus({ redis }) : createMemoryIdentityBus();
const cognito = new Cognito({
  userPoolId: config.COGNITO_USER_POOL_ID,
  clientId: config.COGNITO_CLIENT_ID,
  region: config.COGNITO_REGION,
  timeoutMs: config.COGNITO_TIMEOUT_MS,
  ...(config.COGNITO_ENDPOINT ? { endpoint: config.COGNITO_ENDPOINT } : {}),
});
if (config.BOOTSTRAP_ADMIN_EMAIL && config.BOOTSTRAP_ADMIN_PASSWORD) {
  const outcome = await bootstrapPlatformAdmin({
    db,
    cognito,
    log,
    email: config.BOOTSTRAP_ADMIN_EMAIL,
    password: config.BOOTSTRAP_ADMIN_PASSWORD,
  });
  log.info('bootstrap admin', { outcome });
}
const server = createAuthSubgraph({
  db,
  log,
  contextSecret: config.ROUTER_CONTEXT_SECRET,
  cognito,
  identity,
  ...(redis ? { redis } : {}),
  invitationTtlSeconds: config.INVITATION_TTL_SECONDS,
  loginLimits: {
    perEmail: config.LOGIN_LIMIT_PER_EMAIL,
    perAddress: config.LOGIN_LIMIT_PER_ADDRESS,
    windowSeconds: config.LOGIN_LIMIT_WINDOW_SECONDS,
  },
});
const port = await server.start(config.PORT, config.HOST);
log.info('listening', { url: `http://${config.HOST}:${port}/graphql` });
runUntilSignal(async () => {
  await server.stop();
  redis?.disconnect();
  await db.$disconnect();
}, log);
