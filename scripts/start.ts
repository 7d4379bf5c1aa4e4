// `npm start`: the whole platform in one process. With nothing configured every dependency is an
// embedded stand-in (PGlite, cognito-local, in-process cache/pub-sub/event log) and a demo is
// seeded; DATABASE_URL, REDIS_URL, KAFKA_BROKERS and COGNITO_* switch each part to the real thing.
// Every variable is listed in the README's configuration table.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { bool, commonConfig, int, list, loadConfig, oneOf, secret, str, url } from '@lt/config';
import { createLogger, logFormat, prettyLine } from '@lt/logger';
import { runUntilSignal } from '@lt/server';
import { startApp } from '@lt/app';
import { locationConfigSpec } from '@lt/subgraph-location/config';

const port = (def: number, what: string) => int({ default: def, min: 0, max: 65535, description: what });
const config = loadConfig(
  {
    ...commonConfig,
    // Fleet history: the same variables, defaults and bounds as the deployed location subgraph.
    POINT_RETENTION_MAX_DAYS: locationConfigSpec.POINT_RETENTION_MAX_DAYS,
    RETENTION_INTERVAL_SECONDS: locationConfigSpec.RETENTION_INTERVAL_SECONDS,
    DEVICE_OFFLINE_AFTER_SECONDS: locationConfigSpec.DEVICE_OFFLINE_AFTER_SECONDS,
    STOP_MIN_SECONDS: locationConfigSpec.STOP_MIN_SECONDS,
    STOP_RADIUS_METERS: locationConfigSpec.STOP_RADIUS_METERS,
    ROUTER_CONTEXT_SECRET: { ...commonConfig.ROUTER_CONTEXT_SECRET, optional: true },
    HOST: str({ default: '127.0.0.1', description: 'interface every server listens on' }),
    PORT: port(4000, 'router port (/graphql, /dashboard, /healthz, /readyz, /metrics)'),
    AUTH_PORT: port(4001, 'auth subgraph port'),
    TENANT_PORT: port(4002, 'tenant subgraph port'),
    LOCATION_PORT: port(4003, 'location subgraph port'),
    STREAMING_PORT: port(4004, 'streaming subgraph port'),
    DATA_DIR: str({
      default: '.data',
      description: 'data of the embedded stand-ins (PGlite, cognito-local, generated secrets, demo state)',
    }),
    DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      optional: true,
      description: 'services role (lt_app) on a real Postgres; unset = embedded PGlite',
    }),
    ADMIN_DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      optional: true,
      description: 'superuser URL: create roles + database and migrate at start',
    }),
    MIGRATION_DATABASE_URL: url({
      protocols: ['postgresql', 'postgres'],
      optional: true,
      description: 'owner (lt_owner) URL: migrate at start',
    }),
    REDIS_URL: url({
      protocols: ['redis', 'rediss'],
      optional: true,
      description: 'real Redis; unset = in-process cache and pub/sub',
    }),
    KAFKA_BROKERS: list({
      optional: true,
      description: 'real Kafka brokers (host:port,…); unset = in-process event log',
    }),
    KAFKA_TOPIC_PREFIX: str({ default: '', description: 'prefix of every Kafka topic' }),
    STREAMING_CONSUMER_GROUP: str({
      default: 'streaming-webhooks',
      description: 'Kafka consumer group of the webhook consumers',
    }),
    COGNITO_USER_POOL_ID: str({
      optional: true,
      description: 'real Cognito pool (with COGNITO_CLIENT_ID); unset = embedded cognito-local',
    }),
    COGNITO_CLIENT_ID: str({
      optional: true,
      description: 'app client (no secret; USER_PASSWORD_AUTH + REFRESH_TOKEN_AUTH)',
    }),
    COGNITO_ENDPOINT: url({
      protocols: ['http', 'https'],
      optional: true,
      description: 'cognito-local endpoint; unset with a pool id = AWS',
    }),
    COGNITO_REGION: str({ default: 'us-east-1', description: 'AWS region of the pool' }),
    COGNITO_ISSUER: url({
      protocols: ['http', 'https'],
      optional: true,
      description: 'expected token issuer (default: derived from endpoint/region + pool)',
    }),
    COGNITO_LOCAL_PORT: port(9229, 'port of the embedded cognito-local (taken: any free port)'),
    BOOTSTRAP_ADMIN_EMAIL: str({
      optional: true,
      description: 'platform admin created on first start (with BOOTSTRAP_ADMIN_PASSWORD)',
    }),
    BOOTSTRAP_ADMIN_PASSWORD: str({
      optional: true,
      secret: true,
      description: 'password of the bootstrapped platform admin',
    }),
    STREAMING_SECRET_KEY: secret({
      minLength: 32,
      optional: true,
      description: '32-byte key (base64/hex) encrypting sink secrets; embedded: generated into DATA_DIR',
    }),
    SINK_ALLOW_LOOPBACK: bool({
      optional: true,
      description: 'allow http:// loopback sink URLs (default: on outside production)',
    }),
    DEMO: oneOf(['auto', 'on', 'off'] as const, {
      default: 'auto',
      description: 'seed the demo tenant/users/sink; auto = when Postgres is embedded',
    }),
    DEMO_RECEIVER_PORT: port(4010, 'built-in demo webhook receiver port'),
    MAP_STYLE_URL: url({
      protocols: ['http', 'https'],
      optional: true,
      description: 'dashboard map: MapLibre style URL or raster tile template ({z}/{x}/{y}); unset = offline basemap',
    }),
    ALLOW_EMBEDDED_PUBLIC: bool({
      default: false,
      description: 'allow a non-loopback HOST while Postgres or Cognito is embedded (development stand-ins)',
    }),
  },
  process.env,
);
// Until the banner is printed, info/debug lines go to DATA_DIR/start.log (warnings and errors to
// stdout as always): the banner is what a person starting the platform came for. The start-up log
// keeps JSON lines; stdout gets readable lines on a terminal (LOG_FORMAT, README "Configuration").
const startLog = join(resolve(config.DATA_DIR), 'start.log');
mkdirSync(resolve(config.DATA_DIR), { recursive: true });
writeFileSync(startLog, '');
let started = false;
const quiet = /^\{"level":"(debug|info)"/;
const readable = logFormat(config.LOG_FORMAT, config.NODE_ENV === 'production') === 'pretty' ? prettyLine() : null;
const log = createLogger({
  level: config.LOG_LEVEL,
  bindings: { service: 'app' },
  write: (line) => {
    if (!started && quiet.test(line)) appendFileSync(startLog, line + '\n');
    else process.stdout.write((readable ? readable(line) : line) + '\n');
  },
});
const production = config.NODE_ENV === 'production';
if (config.COGNITO_USER_POOL_ID && !config.COGNITO_CLIENT_ID)
  throw new Error('COGNITO_USER_POOL_ID needs COGNITO_CLIENT_ID');

const app = await startApp(
  {
    production,
    host: config.HOST,
    port: config.PORT,
    subgraphPorts: {
      auth: config.AUTH_PORT,
      tenant: config.TENANT_PORT,
      location: config.LOCATION_PORT,
      streaming: config.STREAMING_PORT,
    },
    dataDir: config.DATA_DIR,
    ...(config.ROUTER_CONTEXT_SECRET ? { contextSecret: config.ROUTER_CONTEXT_SECRET } : {}),
    ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}),
    ...(config.ADMIN_DATABASE_URL ? { adminDatabaseUrl: config.ADMIN_DATABASE_URL } : {}),
    ...(config.MIGRATION_DATABASE_URL ? { migrationDatabaseUrl: config.MIGRATION_DATABASE_URL } : {}),
    ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}),
    ...(config.KAFKA_BROKERS?.length ? { kafkaBrokers: config.KAFKA_BROKERS } : {}),
    kafkaTopicPrefix: config.KAFKA_TOPIC_PREFIX,
    kafkaGroupId: config.STREAMING_CONSUMER_GROUP,
    ...(config.COGNITO_USER_POOL_ID && config.COGNITO_CLIENT_ID
      ? {
          cognito: {
            userPoolId: config.COGNITO_USER_POOL_ID,
            clientId: config.COGNITO_CLIENT_ID,
            region: config.COGNITO_REGION,
            ...(config.COGNITO_ENDPOINT ? { endpoint: config.COGNITO_ENDPOINT } : {}),
            ...(config.COGNITO_ISSUER ? { issuer: config.COGNITO_ISSUER } : {}),
          },
        }
      : {}),
    cognitoLocalPort: config.COGNITO_LOCAL_PORT,
    ...(config.BOOTSTRAP_ADMIN_EMAIL && config.BOOTSTRAP_ADMIN_PASSWORD
      ? { bootstrapAdmin: { email: config.BOOTSTRAP_ADMIN_EMAIL, password: config.BOOTSTRAP_ADMIN_PASSWORD } }
      : {}),
    ...(config.STREAMING_SECRET_KEY ? { streamingSecretKey: config.STREAMING_SECRET_KEY } : {}),
    allowLoopbackSinks: config.SINK_ALLOW_LOOPBACK ?? !production,
    demo: config.DEMO === 'on' || (config.DEMO === 'auto' && !config.DATABASE_URL),
    demoDriver: true,
    demoReceiverPort: config.DEMO_RECEIVER_PORT,
    ...(config.MAP_STYLE_URL ? { mapStyleUrl: config.MAP_STYLE_URL } : {}),
    allowEmbeddedPublic: config.ALLOW_EMBEDDED_PUBLIC,
    retention: { maxDays: config.POINT_RETENTION_MAX_DAYS, intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000 },
    fleet: {
      offlineAfterSeconds: config.DEVICE_OFFLINE_AFTER_SECONDS,
      stopMinSeconds: config.STOP_MIN_SECONDS,
      stopRadiusMeters: config.STOP_RADIUS_METERS,
    },
  },
  log,
);

const lines = [
  '',
  `  Location supergraph ready in ${(app.readyMs / 1000).toFixed(1)} s`,
  `  GraphQL + Apollo Sandbox  ${app.routerUrl}`,
  `  Live dashboard            ${app.dashboardUrl}`,
  `  Health / readiness        ${app.routerUrl.replace('/graphql', '/healthz')}  ${app.routerUrl.replace('/graphql', '/readyz')}`,
  `  Parts                     ${Object.entries(app.parts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}`,
  `  Start-up log              ${relative(process.cwd(), startLog) || startLog}`,
];
if (app.demo) {
  const a = app.demo.accounts;
  lines.push(
    `  Demo webhook receiver     ${app.demo.receiverUrl} (received: ${app.demo.receiverUrl}/events)`,
    `  Demo tenant               ${app.demo.state.tenant.name} (${app.demo.state.tenant.slug})`,
    `  Demo logins               platform admin  ${a.admin.email} / ${
      app.demo.configuredAdmin ? '(BOOTSTRAP_ADMIN_PASSWORD)' : a.admin.password
    }`,
    `                            tenant admin    ${a.tenantAdmin.email} / ${a.tenantAdmin.password}`,
    `                            member          ${a.member.email} / ${a.member.password}`,
  );
  if (app.demo.driver)
    lines.push(
      `  Demo vehicles             ${app.demo.driver.sessionIds().length} vans of ${a.member.email} moving now (DEMO=off: no demo)`,
    );
}
console.log(lines.join('\n') + '\n');
started = true;
log.info('ready', { router: app.routerUrl, readyMs: app.readyMs, parts: app.parts });
runUntilSignal(() => app.stop(), log);
