// Runs the auth subgraph alone: reads config, starts, stops on SIGTERM. The only file that does.
import { Redis } from 'ioredis';
import { commonConfig, int, loadConfig, secret, str, url } from '@lt/config';
import { createDb } from '@lt/db';
import { createMemoryIdentityBus, createRedisIdentityBus } from '@lt/identity';
import { createLogger } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { bootstrapPlatformAdmin } from './bootstrap';
import { Cognito } from './cognito';
import { createAuthSubgraph } from './createAuthSubgraph';

const config = loadConfig(
  {
    ...commonConfig,
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      description: 'services role (lt_app) connection string',
    }),
    PORT: int({ default: 4001, min: 0, max: 65535, description: 'auth subgraph port' }),
    HOST: str({ default: '127.0.0.1', description: 'interface to listen on' }),
    REDIS_URL: url({
      protocols: ['redis', 'rediss'],
      optional: true,
      description: 'login rate limits + identity events to routers; without it: in process only',
    }),
    COGNITO_USER_POOL_ID: str({ default: 'local_supergraph', description: 'Cognito user pool' }),
    COGNITO_CLIENT_ID: str({ default: 'supergraphlocalclient', description: 'public app client (USER_PASSWORD_AUTH)' }),
    COGNITO_ENDPOINT: url({
      protocols: ['http', 'https'],
      optional: true,
      description: 'cognito-local, e.g. http://127.0.0.1:9229; unset = AWS (credentials from the environment)',
    }),
    COGNITO_REGION: str({ default: 'us-east-1', description: 'AWS region of the pool' }),
    COGNITO_TIMEOUT_MS: int({ default: 3_000, min: 100, description: 'deadline of each Cognito call, ms' }),
    INVITATION_TTL_SECONDS: int({ default: 7 * 24 * 3600, min: 60, description: 'invitation lifetime, s' }),
    LOGIN_LIMIT_PER_EMAIL: int({ default: 10, min: 1, description: 'login attempts per e-mail per window' }),
    LOGIN_LIMIT_PER_ADDRESS: int({ default: 50, min: 1, description: 'login attempts per client address per window' }),
    LOGIN_LIMIT_WINDOW_SECONDS: int({ default: 300, min: 1, description: 'login rate-limit window, s' }),
    BOOTSTRAP_ADMIN_EMAIL: str({ optional: true, description: 'platform admin created on first start (idempotent)' }),
    BOOTSTRAP_ADMIN_PASSWORD: secret({
      minLength: 8,
      optional: true,
      description: 'its password (Cognito policy: 8+, upper, lower, digit)',
    }),
  },
  process.env,
);
const log = createLogger({ level: config.LOG_LEVEL, bindings: { service: 'auth' } });
const db = createDb({ url: config.DATABASE_URL });
const redis = config.REDIS_URL
  ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 3_000 })
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
